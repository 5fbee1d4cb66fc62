"""The built wheel installs like a library: configs and zoo metafile inside, configs by name,
no path into the source checkout."""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

TINY = ['train_dataloader.batch_size=16', 'train_dataloader.dataset.subset_size=32',
        'train_dataloader.num_workers=0', 'model.queue_len=64', 'model.bn_splits=1',
        'model.backbone.cifar_stem=False', 'train_cfg.max_epochs=1',
        'default_hooks.checkpoint.interval=1']


def _run(*cmd, cwd: Path, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, text=True, capture_output=True,
                          timeout=600, env={**os.environ, **(env or {})})


@pytest.fixture(scope='module')
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp('wheel')
    build = _run(sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation',
                 '-q', '-w', out, REPO_ROOT, cwd=out)
    assert build.returncode == 0, build.stderr[-2000:]
    (path,) = out.glob('moco_plugin-*.whl')
    return path


@pytest.fixture(scope='module')
def installed(wheel, tmp_path_factory) -> Path:
    """A new venv with the wheel; torch and the other dependencies come from this venv's
    site-packages through a path file (no download), the package itself only from the wheel."""
    venv = tmp_path_factory.mktemp('venv')
    assert _run(sys.executable, '-m', 'venv', '--without-pip', venv, cwd=venv).returncode == 0
    python = venv / 'bin' / 'python'
    target_site = Path(_run(python, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])',
                            cwd=venv).stdout.strip())
    (target_site / '_moco_test_dependencies.pth').write_text(sysconfig.get_paths()['purelib'] + '\n')
    install = _run(sys.executable, '-m', 'pip', '--python', python, 'install', '-q', '--no-deps',
                   wheel, cwd=venv)
    assert install.returncode == 0, install.stderr[-2000:]
    return venv


def test_wheel_holds_configs_and_metafile(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert 'moco_plugin/zoo/models.json' in names
    assert 'moco_plugin/configs/_base_/default_runtime.py' in names
    assert 'moco_plugin/configs/mocov2/mocov2_resnet18_1xb64-adamw-coslr-2e_cifar10-20k-cpu.py' in names
    packaged = {p.relative_to(REPO_ROOT / 'moco_plugin').as_posix()
                for p in (REPO_ROOT / 'moco_plugin' / 'configs').rglob('*.py')}
    assert {f'moco_plugin/{p}' for p in packaged} <= names


def test_installed_wheel_trains_a_config_by_name_outside_the_checkout(installed, cifar_root,
                                                                        tmp_path):
    python = installed / 'bin' / 'python'
    where = _run(python, '-c', 'import moco_plugin; print(moco_plugin.__file__)', cwd=tmp_path)
    assert where.returncode == 0, where.stderr[-2000:]
    assert Path(where.stdout.strip()).is_relative_to(installed), where.stdout
    train = _run(installed / 'bin' / 'moco-train', 'mocov2_resnet18_1xb256-coslr-200e_cifar10',
                 '--work-dir', tmp_path / 'run', '--data-root', Path(cifar_root).resolve(),
                 '--cfg-options', *TINY, cwd=tmp_path)
    assert train.returncode == 0, train.stderr[-3000:]
    assert (tmp_path / 'run' / 'epoch_1.pth').is_file()
    listed = _run(installed / 'bin' / 'moco-download', '--list', cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert 'mocov2_resnet50_800e_in1k_official' in listed.stdout
