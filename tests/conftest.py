"""Shared fixtures: the real CIFAR-10 location and small helpers."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def cifar10_root() -> Path | None:
    """The real CIFAR-10 (image folders): $MOCO_DATA_ROOT, else ../shared/datasets/cifar10."""
    candidates = [os.environ.get('MOCO_DATA_ROOT'), REPO_ROOT.parent / 'shared' / 'datasets' / 'cifar10']
    for candidate in candidates:
        if candidate and (Path(candidate) / 'train').is_dir():
            # absolute: tests write paths into tables and configs read from other folders
            # (CI sets MOCO_DATA_ROOT=../shared/datasets/cifar10, relative to the clone)
            return Path(candidate).resolve()
    return None


@pytest.fixture(scope='session')
def cifar_root() -> Path:
    root = cifar10_root()
    if root is None:
        pytest.skip('real CIFAR-10 not found: set MOCO_DATA_ROOT or place it at ../shared/datasets/cifar10')
    return root


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep decoded-array and download caches out of the user's home during tests."""
    monkeypatch.setenv('MOCO_CACHE_DIR', str(tmp_path_factory.getbasetemp() / 'moco_cache'))


def run_tool(*args: str, env: dict | None = None, timeout: int = 600,
             cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``python tools/<args>`` (from the repo root unless ``cwd``) and capture its output."""
    full_env = {**os.environ, 'PYTHONUNBUFFERED': '1', **(env or {})}
    return subprocess.run([sys.executable, *args], cwd=cwd or REPO_ROOT, env=full_env, text=True,
                          capture_output=True, timeout=timeout)
