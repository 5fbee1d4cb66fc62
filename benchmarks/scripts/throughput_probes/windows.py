"""Per-window throughput from iteration timestamps."""
from __future__ import annotations

import statistics
import time
from typing import Dict, List

from .memory import _minor_faults

class WindowTimer:
    """Timestamps of consecutive iterations -> per-window throughput (phase (c)).

    Args:
        batch_size: Images per iteration.
        warmup: Iterations ignored at the start.
        iters: Iterations per timed window.
        windows: Number of windows.
    """

    def __init__(self, batch_size: int, warmup: int, iters: int, windows: int) -> None:
        self.batch_size, self.warmup, self.iters, self.windows = batch_size, warmup, iters, windows
        self.stamps: List[float] = []
        self.faults: List[int] = []  # minor page faults of this process, at the same moments

    @property
    def total_iters(self) -> int:
        return self.warmup + self.iters * self.windows

    def start(self) -> None:
        self.stamps = [time.perf_counter()]
        self.faults = [_minor_faults()]

    def tick(self) -> bool:
        """Record the end of an iteration; True once all windows are complete."""
        self.stamps.append(time.perf_counter())
        self.faults.append(_minor_faults())
        return len(self.stamps) - 1 >= self.total_iters

    def faults_per_iter(self) -> float:
        """Minor page faults per timed iteration (fresh memory pages the step had to touch)."""
        first = min(self.warmup, len(self.faults) - 1)
        iters = len(self.faults) - 1 - first
        return (self.faults[-1] - self.faults[first]) / iters if iters > 0 else float('nan')

    def rates(self) -> List[float]:
        out = []
        for w in range(self.windows):
            first = self.warmup + w * self.iters
            last = first + self.iters
            if last < len(self.stamps):
                out.append(self.batch_size * self.iters / (self.stamps[last] - self.stamps[first]))
        return out


def summarise(rates: List[float], faults_per_iter: float = float('nan')) -> Dict:
    return dict(median=statistics.median(rates), min=min(rates), max=max(rates),
                windows=[round(r, 1) for r in rates], faults_per_iter=round(faults_per_iter))
