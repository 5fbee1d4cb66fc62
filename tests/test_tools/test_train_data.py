"""tools/train.py --train-data: pretraining on a user's own folder of mixed images, end to end."""
import re

import pytest

from moco_plugin.cli import train
from moco_plugin.utils import safe_torch_load
from tests.conftest import run_tool
from tests.helpers.mixed_images import cifar_files, write_mixed_folder

MAIN_JOB = 'mocov2_resnet18_1xb64-adamw-coslr-2e_cifar10-20k-cpu'  # ImageNet stem, batched aug
BATCH = 32
FAST = [f'train_dataloader.batch_size={BATCH}', 'model.queue_len=64', 'train_cfg.max_epochs=1',
        'param_scheduler.0.T_max=1', 'param_scheduler.0.end=1',
        'model.data_preprocessor.batch_augment.compile=False', 'default_hooks.logger.interval=1']


def _last_line(result):
    return result.stderr.strip().splitlines()[-1]


def test_pretrains_one_epoch_on_a_folder_of_mixed_images(cifar_root, tmp_path):
    folder = tmp_path / 'my_photos'
    made = write_mixed_folder(cifar_root, folder, 200)  # 199 images + 1 corrupt .jpg
    assert min(made['kinds'].values()) >= 1  # JPEG, PNG, grayscale, PPM, WebP, CMYK, 16-bit
    work_dir = tmp_path / 'run'
    result = run_tool('tools/train.py', MAIN_JOB, '--train-data', str(folder), '--image-size',
                      '48', '--on-bad-image', 'skip', '--work-dir', str(work_dir),
                      '--cfg-options', *FAST)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert re.search(rf'skipped bad image \S*{made["corrupt"]}: \S', output)
    assert 'skipped 1 bad image(s) of 200' in output and '(199 used' in output
    assert 'k-NN monitor off (--train-data without --monitor-data)' in output
    assert 'subset_size=20000' in output  # the CIFAR subset is named as dropped
    checkpoint = safe_torch_load(str(work_dir / 'epoch_1.pth'))
    assert checkpoint['meta']['training_image_size'] == 48
    assert checkpoint['meta']['iter'] == 199 // BATCH
    dumped = (work_dir / f'{MAIN_JOB}.py').read_text()
    assert "type='ImageFilesDataset'" in dumped and 'in_memory_size=48' in dumped


def test_monitor_on_a_labelled_csv(cifar_root, tmp_path):
    folder = tmp_path / 'unlabelled'
    folder.mkdir()
    for i, src in enumerate(cifar_files(cifar_root, 32)):
        (folder / f'{i}.jpg').write_bytes(src.read_bytes())
    rows = ['path;label'] + [f'{p};{p.parent.name}' for p in cifar_files(cifar_root, 40, 'test')]
    table = tmp_path / 'labelled.csv'
    table.write_text('\r\n'.join(rows) + '\r\n')  # absolute paths, ';', CRLF
    work_dir = tmp_path / 'run'
    result = run_tool('tools/train.py', MAIN_JOB, '--train-data', str(folder), '--monitor-data',
                      str(table), '--on-bad-image', 'error', '--work-dir', str(work_dir),
                      '--cfg-options', *FAST, 'train_dataloader.batch_size=16')
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert f'k-NN monitor on {table} at 32 px' in output
    history = safe_torch_load(str(work_dir / 'epoch_1.pth'))['meta']['knn_history']
    assert len(history) == 1 and (history[0]['n_bank'], history[0]['n_query']) == (30, 10)
    assert 0 <= history[0]['top1'] <= 100


@pytest.mark.parametrize('argv, message', [
    (['--train-data', 'x', '--data-root', 'y'], '--train-data and --data-root both name the training data'),
    (['--image-size', '64'], '--image-size apply to --train-data; add --train-data PATH'),
    (['--train-data', 'x', '--no-monitor', '--monitor-data', 'y'], 'not allowed with argument'),
    (['--train-data', 'x', '--on-bad-image', 'ignore'], "invalid choice: 'ignore'"),
])
def test_contradicting_options_are_argparse_errors(capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        train.parse_args([MAIN_JOB, *argv])
    assert info.value.code == 2 and message in capsys.readouterr().err.strip().splitlines()[-1]


def test_all_images_bad_is_a_one_line_error(tmp_path):
    # Missing or empty folders and tables without a path column fail in build_config with the
    # same one-line mechanism; tested without a process in tests/test_datasets/test_image_files.py
    # and tests/test_engine/test_train_data_config.py.
    spec = tmp_path / 'bad'
    spec.mkdir()
    for i in range(2):
        (spec / f'{i}.jpg').write_bytes(b'not a jpeg')
    result = run_tool('tools/train.py', MAIN_JOB, '--train-data', str(spec), '--work-dir',
                      str(tmp_path / 'w'), '--cfg-options', *FAST)
    assert result.returncode == 2, result.stderr[-2000:]
    assert re.search(r'^train\.py: error: none of the 2 images could be decoded, e\.g\. \S+0\.jpg',
                     _last_line(result)), _last_line(result)
    assert 'Traceback' not in result.stderr
