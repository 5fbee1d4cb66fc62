"""Registries of moco_plugin, children of MMEngine's root registries.

Every component of this package is registered here under the scope
``moco_plugin``; configs that set ``default_scope='moco_plugin'`` find them
without manual imports because each registry names the modules (``locations``)
that register into it. Components registered by MMEngine itself (optimizers,
schedulers, default hooks...) are still found through the parent registries.
"""
from __future__ import annotations

import difflib
from typing import Iterable, Optional, Type

from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import Registry
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS

SCOPE = 'moco_plugin'


class UnknownTypeError(KeyError):
    """A config asked for a ``type`` that no registry in the chain knows."""

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0]) if self.args else ''


def _registered_names(registry: Registry) -> list[str]:
    names: list[str] = []
    node: Optional[Registry] = registry
    while node is not None:
        names.extend(node.module_dict.keys())
        node = node.parent
    return sorted(set(names))


def close_names(key: str, candidates: Iterable[str], n: int = 5) -> list[str]:
    """Registered names that look like ``key`` (for 'did you mean' errors)."""
    candidates = list(candidates)
    lowered = {c.lower(): c for c in candidates}
    matches = difflib.get_close_matches(key.lower(), list(lowered), n=n, cutoff=0.5)
    substring = [c for c in candidates if key.lower() in c.lower() or c.lower() in key.lower()]
    out = [lowered[m] for m in matches] + substring
    return list(dict.fromkeys(out))[:n]


class SuggestingRegistry(Registry):
    """A :class:`mmengine.registry.Registry` whose misses name close matches.

    MMEngine answers an unknown ``type='MoCov2'`` with a generic
    "is not in the registry" message; this registry raises
    :class:`UnknownTypeError` naming the type, the registry and the closest
    registered names, e.g. ``did you mean: MoCo``.
    """

    def get(self, key: str) -> Optional[Type]:
        obj = super().get(key)
        if obj is None and isinstance(key, str):
            scope, real_key = self.split_scope_key(key)
            if scope is None or scope == self.scope:
                names = _registered_names(self)
                hint = close_names(real_key, names)
                hint_text = (f' Did you mean: {", ".join(hint)}?' if hint else
                             f' Registered: {", ".join(names[:30])}.')
                raise UnknownTypeError(
                    f"unknown type '{real_key}' in the {self.scope}::{self.name} "
                    f'registry.{hint_text} Fix the `type=` in your config, or register '
                    'the class in a module listed in the registry\'s locations.')
        return obj


def _child(name: str, parent: Registry, *locations: str) -> SuggestingRegistry:
    return SuggestingRegistry(name, parent=parent, scope=SCOPE, locations=list(locations))


# Building a model also imports the zoo: it registers the zoo:// checkpoint scheme that
# init_cfg, load_from and --resume may name (the registry only names it; it imports nothing).
MODELS = _child('model', MMENGINE_MODELS, 'moco_plugin.models', 'moco_plugin.zoo')
DATASETS = _child('dataset', MMENGINE_DATASETS, 'moco_plugin.datasets')
TRANSFORMS = _child('transform', MMENGINE_TRANSFORMS, 'moco_plugin.datasets.transforms')
DATA_SAMPLERS = _child('data sampler', MMENGINE_DATA_SAMPLERS, 'moco_plugin.datasets')
FUNCTIONS = _child('function', MMENGINE_FUNCTIONS, 'moco_plugin.datasets')
HOOKS = _child('hook', MMENGINE_HOOKS, 'moco_plugin.engine.hooks', 'moco_plugin.evaluation')
LOOPS = _child('loop', MMENGINE_LOOPS, 'moco_plugin.engine')
OPTIMIZERS = _child('optimizer', MMENGINE_OPTIMIZERS, 'moco_plugin.engine')
OPTIM_WRAPPERS = _child('optim_wrapper', MMENGINE_OPTIM_WRAPPERS, 'moco_plugin.engine')
PARAM_SCHEDULERS = _child('parameter scheduler', MMENGINE_PARAM_SCHEDULERS, 'moco_plugin.engine')
METRICS = _child('metric', MMENGINE_METRICS, 'moco_plugin.engine')
VISUALIZERS = _child('visualizer', MMENGINE_VISUALIZERS, 'moco_plugin.engine')
VISBACKENDS = _child('vis_backend', MMENGINE_VISBACKENDS, 'moco_plugin.engine')
# Registries the Runner consults; children exist so that lookups in the
# 'moco_plugin' scope fall through to MMEngine's entries without warnings.
RUNNERS = _child('runner', MMENGINE_RUNNERS, 'moco_plugin.engine')
MODEL_WRAPPERS = _child('model_wrapper', MMENGINE_MODEL_WRAPPERS, 'moco_plugin.engine')
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, 'moco_plugin.engine')
LOG_PROCESSORS = _child('log_processor', MMENGINE_LOG_PROCESSORS, 'moco_plugin.engine')
WEIGHT_INITIALIZERS = _child('weight initializer', MMENGINE_WEIGHT_INITIALIZERS, 'moco_plugin.models')
EVALUATOR = _child('evaluator', MMENGINE_EVALUATOR, 'moco_plugin.engine')
