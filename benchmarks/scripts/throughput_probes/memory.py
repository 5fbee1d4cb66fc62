"""Memory and page-fault readings of this process and its loader workers (Linux /proc)."""
from __future__ import annotations

import glob
import resource
from typing import List

def _status_kb(pid: str, key: str) -> int:
    try:
        with open(f'/proc/{pid}/status') as handle:
            for line in handle:
                if line.startswith(key + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _child_pids() -> List[str]:
    pids: List[str] = []
    for path in glob.glob('/proc/self/task/*/children'):
        try:
            with open(path) as handle:
                pids += handle.read().split()
        except OSError:
            pass
    return pids


def _pss_kb(pid: str) -> int:
    """Proportional set size: shared pages are split between the processes sharing them."""
    try:
        with open(f'/proc/{pid}/smaps_rollup') as handle:
            for line in handle:
                if line.startswith('Pss:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return _status_kb(pid, 'VmRSS')


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def rss_mb(with_children: bool = False) -> float:
    """Resident memory in MiB: this process's RSS, or with its live children (loader workers)
    the sum of their proportional set sizes, so pages a forked worker shares count once."""
    if not with_children:
        return _status_kb('self', 'VmRSS') / 1024
    return sum(_pss_kb(pid) for pid in ['self', *_child_pids()]) / 1024


def peak_rss_mb() -> float:
    """High-water mark of this process's resident memory since start or :func:`reset_peak_rss`."""
    return _status_kb('self', 'VmHWM') / 1024


def reset_peak_rss() -> None:
    try:  # Linux: writing 5 to clear_refs resets VmHWM to the current RSS
        with open('/proc/self/clear_refs', 'w') as handle:
            handle.write('5')
    except OSError:
        pass
