"""What one benchmark run of a frozen backbone is asked to do: :class:`BenchmarkSettings`.

``tools/benchmark.py`` builds it from its command line (one field per option, same names and
defaults); :func:`moco_plugin.experiments.benchmark.run_benchmark` and its steps read it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Optional, Tuple


@dataclass
class BenchmarkSettings:
    """The options of one benchmark of ``config`` + ``checkpoint`` (``'random'``/``'none'``:
    the random-init backbone)."""

    config: str
    checkpoint: str
    # what to run
    knn: bool = True
    linear: bool = True
    retrieval: int = 0
    few_shot: List[Tuple[int, int]] = field(default_factory=list)  # (N-way, K-shot)
    feature_map: int = 0
    # few-shot
    few_shot_episodes: int = 600
    few_shot_queries: int = 15
    few_shot_classifier: List[str] = field(default_factory=lambda: ['prototype', 'logistic'])
    few_shot_full: bool = False
    # k-NN
    k: List[int] = field(default_factory=lambda: [200])
    temperature: float = 0.1
    # linear probe
    linear_epochs: int = 100
    linear_lr: List[float] = field(default_factory=lambda: [30.0])
    linear_val_fraction: float = 0.1
    holdout_group: Optional[str] = None
    linear_momentum: float = 0.9
    linear_wd: float = 0.0
    linear_batch_size: int = 256
    linear_schedule: str = 'cos'
    linear_aug: bool = False
    linear_normalize: bool = False
    # data
    data_root: Optional[str] = None
    subset_train: Optional[int] = None
    subset_test: Optional[int] = None
    subset_seed: int = 0
    train_split: Optional[str] = None
    test_split: Optional[str] = None
    image_size: Optional[int] = None
    eval_data: Optional[str] = None
    cifar100_labels: Optional[str] = None
    train_data: Optional[str] = None
    test_data: Optional[str] = None
    csv_columns: str = 'path,label'
    image_root: Optional[str] = None
    # runtime
    batch_size: int = 256
    num_workers: int = 2
    no_cache: bool = False
    seed: int = 0
    cfg_options: Dict[str, Any] = field(default_factory=dict)
    # device and precision: asked for (precision_request), then what runs (set by
    # benchmark_setup.choose_runtime: device, precision fp32|bf16|fp16, amp, precision_choice)
    device: Optional[str] = None
    precision: str = 'auto'
    amp: Any = False
    threads: Optional[int] = None
    precision_request: Optional[str] = None
    precision_choice: Optional[Dict[str, Any]] = None
    # output
    out: Optional[str] = None
    name: Optional[str] = None
    markdown: Optional[str] = None
    quiet: bool = False
    argv: List[str] = field(default_factory=list)  # the command line, as the result records it

    @classmethod
    def option_names(cls) -> List[str]:
        return [f.name for f in fields(cls)]

    @property
    def needs_train_features(self) -> bool:
        """Whether a benchmark asked for reads the training split's features (the augmented
        linear probe runs the backbone itself: they only serve k-NN / retrieval then)."""
        return bool(self.knn or self.retrieval or (self.linear and not self.linear_aug)
                    or (self.few_shot and self.few_shot_full))
