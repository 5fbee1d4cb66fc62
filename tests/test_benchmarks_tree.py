"""benchmarks/ holds scripts/, specs/ and results/, and nothing committed there names this machine.

The rule for machine paths: no git-tracked file under benchmarks/ contains the checkout's own
path, an absolute path under the checkout's parent folder (where the data and sibling
checkouts live), or one under ``/work/``, ``/home/`` or ``/root/``. ``/tmp/...`` is allowed:
usage lines name scratch files there (``flock /tmp/cpu_heavy.lock``, a GPU machine's
``--target /tmp/site``), which are the same on every machine. Raw tool outputs that carry such
paths (per-run result JSONs, probe heads) are gitignored instead (benchmarks/README.md).
"""
import re
import subprocess

import pytest

from tests.conftest import REPO_ROOT


def tracked(under: str = 'benchmarks'):
    try:
        out = subprocess.run(['git', 'ls-files', '-z', under], cwd=REPO_ROOT, capture_output=True,
                             text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip('not a git checkout')
    files = [f for f in out.split('\0') if f]
    if not files:
        pytest.skip('benchmarks/ is not tracked here')
    return files


def machine_path_pattern() -> re.Pattern:
    roots = {str(REPO_ROOT)}
    if str(REPO_ROOT.parent) not in ('/', '/tmp'):  # a checkout straight under / or /tmp: itself only
        roots.add(str(REPO_ROOT.parent) + '/')
    fixed = '|'.join(re.escape(r) for r in sorted(roots))
    return re.compile(rf'(?:{fixed})|(?<![\w.~$-])/(?:work|home|root)/[\w.-]')


def test_three_folders():
    files = tracked()
    for folder in ('scripts', 'specs', 'results'):
        assert (REPO_ROOT / 'benchmarks' / folder).is_dir()
        assert any(f.startswith(f'benchmarks/{folder}/') for f in files), folder
    assert 'benchmarks/README.md' in files
    top = {f.split('/')[1] for f in files}
    assert top <= {'README.md', 'scripts', 'specs', 'results'}, sorted(top)


def test_no_machine_path_in_committed_benchmarks():
    pattern = machine_path_pattern()
    found = []
    for name in tracked():
        try:
            text = (REPO_ROOT / name).read_text(encoding='utf-8')
        except (UnicodeDecodeError, FileNotFoundError):  # plots; a file deleted but not committed
            continue
        for number, line in enumerate(text.splitlines(), 1):
            match = pattern.search(line)
            if match:
                found.append(f'{name}:{number}: {line[max(0, match.start() - 20):match.end() + 40]}')
    assert not found, 'machine paths in committed benchmark files:\n' + '\n'.join(found)


def test_no_checkpoint_or_raw_output_tracked():
    files = tracked()
    assert not [f for f in files if f.endswith('.pth')]
    assert not [f for f in files if f.endswith('_linear_curve.png')]


def test_pattern_catches_machine_paths_and_allows_scratch_files():
    pattern = machine_path_pattern()
    assert pattern.search(f'"data_root": "{REPO_ROOT}/data"')
    assert pattern.search('"config": "/work/wt11/work_dirs/x/config.py"')
    assert pattern.search('see /home/user/cifar10')
    assert not pattern.search('flock /tmp/cpu_heavy.lock python benchmarks/scripts/few_labels.py')
    assert not pattern.search('export MOCO_DATA_ROOT=../shared/datasets/cifar10')
    assert not pattern.search('work_dirs/sweeps/queue_size')
