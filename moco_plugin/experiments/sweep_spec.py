"""Sweep specs: a base config, keys and their values, seeds; expanded into checked runs.

A spec is a JSON file::

    {"name": "momentum",
     "config": "mocov2_resnet18_1xb64-adamw-coslr-2e_cifar10-20k-cpu",
     "cfg_options": {"train_dataloader.dataset.subset_size": 10000},
     "sweep": {"model.momentum": [0.9, 0.99, 0.999]},
     "seeds": [0, 1],
     "amp": true,
     "benchmark": ["--knn"]}

Every combination of the ``sweep`` values (their cartesian product) runs once per seed,
with the shared ``cfg_options`` (the scale of the experiment) applied first.

Points that differ in several keys at once (e.g. 32 px with the CIFAR stem vs 224 px with
the ImageNet stem, each with its own number of images) are named ``variants`` instead of,
or crossed with, a ``sweep``::

    "variants": {"cifar-stem-32px": {"model.backbone.cifar_stem": true},
                 "imagenet-stem-224px": {"model.data_preprocessor.batch_augment.size": 224}}
"""
from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Sequence

from mmengine.config import Config

from moco_plugin.utils.config_files import find_config
from moco_plugin.utils.quiet import quiet_mmengine

SPEC_KEYS = {'name', 'config', 'cfg_options', 'sweep', 'variants', 'seeds', 'amp', 'benchmark',
             'x', 'notes', 'max_queue_fraction'}
DEFAULT_MAX_QUEUE_FRACTION = 0.5
VARIANT = 'variant'  # the key a run's variant label is stored under in its values


@dataclass
class SweepRun:
    """One training + evaluation of a sweep."""

    run_id: str
    values: Dict[str, Any]
    seed: int
    cfg_options: Dict[str, Any] = field(default_factory=dict)

    def as_cli_options(self) -> List[str]:
        """``key=value`` strings for ``--cfg-options`` (values in Python/JSON literal form)."""
        return [f'{k}={json.dumps(v) if isinstance(v, str) else v}' for k, v in self.cfg_options.items()]


@dataclass
class SweepSpec:
    name: str
    config: str
    sweep: Dict[str, List[Any]] = field(default_factory=dict)
    seeds: List[int] = field(default_factory=lambda: [0])
    variants: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    cfg_options: Dict[str, Any] = field(default_factory=dict)
    amp: bool = False
    benchmark: List[str] = field(default_factory=lambda: ['--knn'])
    x: str = ''
    notes: str = ''
    # MoCo's K may be at most this share of the training images: in a queue that holds much of
    # the dataset, older keys of a query's own image are among its negatives
    max_queue_fraction: float = DEFAULT_MAX_QUEUE_FRACTION

    @property
    def value_keys(self) -> List[str]:
        """What tells the runs apart: ``variant`` (when there are variants), then the swept keys."""
        return ([VARIANT] if self.variants else []) + list(self.sweep)


def load_spec(path: Path) -> SweepSpec:
    """Read and check a spec file; a missing or unknown field is a one-line error."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f'sweep spec not found: {path}') from None
    except json.JSONDecodeError as err:
        raise ValueError(f'{path}: not valid JSON ({err})') from None
    unknown = set(data) - SPEC_KEYS
    missing = {'name', 'config'} - set(data)
    if not {'sweep', 'variants'} & set(data):
        missing.add('sweep (or variants)')
    if unknown or missing:
        raise ValueError(f'{path}: ' + '; '.join(
            ([f'unknown field(s) {sorted(unknown)}'] if unknown else []) +
            ([f'missing field(s) {sorted(missing)}'] if missing else [])) +
            f'; fields: {sorted(SPEC_KEYS)}')
    sweep = data.get('sweep', {})
    if not isinstance(sweep, dict) or ('sweep' in data and not sweep) or not all(
            isinstance(v, list) and v for v in sweep.values()):
        raise ValueError(f'{path}: "sweep" maps each config key to a non-empty list of values')
    variants = data.get('variants', {})
    if not isinstance(variants, dict) or ('variants' in data and not variants) or not all(
            isinstance(v, dict) and v for v in variants.values()):
        raise ValueError(f'{path}: "variants" maps each label to a non-empty dict of config '
                         'options')
    bad_labels = [label for label in variants if not re.fullmatch(r'[\w.+-]+', label)]
    if bad_labels:
        raise ValueError(f'{path}: variant labels {bad_labels} name run folders: use letters, '
                         'digits and . _ + - only')
    clashes = sorted({f'{label}: {key}' for label, options in variants.items() for key in options
                      if key in sweep})
    if clashes:
        raise ValueError(f'{path}: variants set keys the sweep also sets ({", ".join(clashes)}); '
                         'set each key in one place')
    fraction = data.get('max_queue_fraction', DEFAULT_MAX_QUEUE_FRACTION)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or fraction <= 0:
        raise ValueError(f'{path}: "max_queue_fraction" is the largest share of the training '
                         f'images MoCo\'s queue may hold, a number > 0; got {fraction!r}')
    spec = SweepSpec(**{k: v for k, v in data.items() if k in SPEC_KEYS})
    spec.seeds = list(spec.seeds) if spec.seeds is not None else [0]
    spec.x = spec.x or spec.value_keys[0]
    return spec


def _short(key: str) -> str:
    return key.split('.')[-1]


def expand(spec: SweepSpec) -> List[SweepRun]:
    """One :class:`SweepRun` per combination of values and seed, in spec order."""
    keys = list(spec.sweep)
    runs = []
    for label, variant_options in (spec.variants.items() or [(None, {})]):
        for combo in itertools.product(*(spec.sweep[k] for k in keys)):
            swept = dict(zip(keys, combo))
            values = {**({VARIANT: label} if label else {}), **swept}
            for seed in spec.seeds:
                run_id = '_'.join(f'{_short(k)}={v}' for k, v in values.items()) + f'_seed{seed}'
                options = {**spec.cfg_options, **variant_options, **swept, 'randomness.seed': seed}
                runs.append(SweepRun(run_id, values, seed, options))
    return runs


def run_config(spec: SweepSpec, run: SweepRun):
    with quiet_mmengine():  # one "Using env variable MOCO_DATA_ROOT" line per run otherwise
        cfg = Config.fromfile(str(find_config(spec.config)))
    cfg.merge_from_dict(run.cfg_options)
    return cfg


def training_images(cfg, count_dataset) -> int:
    """The training set's size: its ``subset_size`` when set, else the dataset's length."""
    dataset = cfg.train_dataloader.dataset
    return dataset.get('subset_size') or count_dataset(dataset)


def images_per_epoch(cfg, count_dataset) -> int:
    """Images the loader yields per epoch (whole batches only)."""
    size = training_images(cfg, count_dataset)
    batch = cfg.train_dataloader.batch_size
    return size // batch * batch


def check_runs(spec: SweepSpec, runs: Sequence[SweepRun], count_dataset) -> List[str]:
    """Why runs are invalid, before any starts (empty when all are valid).

    MoCo: ``K`` must be a multiple of the keys enqueued per step, no larger than the images
    seen in training (else part of the queue stays random) and at most the spec's
    ``max_queue_fraction`` of the training images (else a query meets older keys of its own
    image among its negatives); a memory bank must hold one entry per training image.
    """
    problems = []
    for run in runs:
        cfg = run_config(spec, run)
        model = cfg.model
        batch = cfg.train_dataloader.batch_size
        if model.get('type') == 'MoCo':
            k = model.get('queue_len', 65536)
            step = batch * (2 if model.get('symmetric') else 1)
            seen = images_per_epoch(cfg, count_dataset) * cfg.train_cfg.max_epochs
            size = training_images(cfg, count_dataset)
            if k % step:
                problems.append(f'{run.run_id}: queue_len {k} is not a multiple of the {step} '
                                'keys enqueued per step')
            if k > seen:
                problems.append(f'{run.run_id}: queue_len {k} is larger than the {seen} images '
                                'seen in training (part of the queue would stay random)')
            elif k > spec.max_queue_fraction * size:
                problems.append(
                    f'{run.run_id}: queue_len {k} is {k / size:.0%} of the {size} training images, '
                    f'above max_queue_fraction {spec.max_queue_fraction:g} (older keys of a '
                    "query's own image would be among its negatives); lower queue_len or raise "
                    '"max_queue_fraction" in the spec')
        if model.get('type') == 'MemoryBankContrast':
            size = training_images(cfg, count_dataset)
            if model.get('bank_size') != size:
                problems.append(f'{run.run_id}: bank_size {model.get("bank_size")} != {size} '
                                'training images')
    return problems
