"""The check's markdown summary: settings, training, and the published anchors side by side."""
from __future__ import annotations

from typing import Dict, List

# Published CIFAR-10 results of MoCo-style ResNet-18 runs, as issue 24 quotes them.
ANCHORS = [
    dict(run="MoCo authors' CIFAR-10 demo (facebookresearch/moco, colab notebook)",
         method='MoCo (demo settings)', epochs=200, knn='82.6', linear='-',
         time='hours', hardware='one V100'),
    dict(run="lightly's CIFAR-10 benchmark", method='MoCo v2, batch 512', epochs=200,
         knn='83.8', linear='-', time='112 min', hardware='one A6000'),
    dict(run='solo-learn (tuned)', method='MoCo v2+', epochs=1000, knn='-', linear='92.9',
         time='-', hardware='-'),
]


def _fmt(value, digits=1, unit=''):
    if value is None:
        return '-'
    if isinstance(value, float):
        return f'{value:.{digits}f}{unit}'
    return f'{value}{unit}'


def _minutes(seconds) -> str:
    return '-' if seconds is None else f'{seconds / 60:.1f} min'


def markdown(summary: Dict) -> str:
    env = summary['environment']
    lines: List[str] = [
        '# GPU check: MoCo v2 ResNet-18 (CIFAR stem) on CIFAR-10, 32 px', '',
        f"Command: `{summary['command']}`  ", f"Finished: {summary['finished']}, "
        f"wall {summary['wall_s']:.0f} s of a {summary['budget_s']:.0f} s budget"
        + (' (**tiny mode**: CPU, tiny subset; numbers only show the code paths run)'
           if summary['tiny'] else ''), '',
        '## Environment', '',
        '| key | value |', '|---|---|',
        *[f'| {k} | {v} |' for k, v in env.items()], '',
        f"## Training step, batch {summary['batch_size']} (img/s, median window)", '',
        'Model-only: the MoCo step (forward, backward, fused SGD, EMA, queue) on views made '
        'beforehand. Whole: `tools/train.py`\'s Runner with every hook, data on the device, '
        'augmentation in the step. Ratio: median of each whole window over the two model-only '
        'windows around it. Host syncs: CUDA synchronisations reported per whole step '
        '(`torch.cuda.set_sync_debug_mode`).', '',
        '| setting | precision | channels_last | compile | model-only img/s | whole img/s | '
        'whole / model-only | host syncs / step | first step s | peak GPU GiB | 200 epochs at '
        'this rate |',
        '|---|---|---|---|---|---|---|---|---|---|---|']
    for r in summary['settings']:
        if 'error' in r:
            lines.append(f"| {r['setting']} | failed: {r['error']} |||||||||")
            continue
        per_epoch = summary['train_images'] / r['whole_img_s']
        lines.append(
            f"| {r['setting']} | {r['precision']} | {r['channels_last']} | {r['compile']} | "
            f"{r['model_only_img_s']:.0f} | {r['whole_img_s']:.0f} | {r['whole_over_model_only']:.3f} | "
            f"{_fmt(r['syncs_per_step'], 2)} | {r['first_step_s']:.1f} | {_fmt(r['peak_gpu_mem_gib'], 2)} | "
            f"{_minutes(200 * per_epoch)} |")
    if any(r.get('sync_sites') for r in summary['settings']):
        lines += ['', 'Where the host synchronised (file:line, first 8 per setting): ' + '; '.join(
            f"{r['setting']}: {', '.join(r['sync_sites'])}" for r in summary['settings']
            if r.get('sync_sites'))]
    train = summary.get('training')
    lines += ['', '## Training run', '']
    if not train:
        lines.append(f"Not run: {summary.get('training_skipped', 'no time left in the budget')}.")
    else:
        knn = summary.get('knn_benchmark') or {}
        last = train['knn_monitor'][-1] if train['knn_monitor'] else {}
        lines += [
            f"Setting `{train['setting']}`, {train['epochs']} epochs (cosine schedule over "
            f"{train['epochs']} epochs), {train['images_per_epoch']} images per epoch: wall "
            f"{train['wall_s']:.0f} s (start-up {train['start_up_s']:.0f} s, first epoch "
            f"{train['first_epoch_s']:.1f} s, then {train['epoch_s_median']:.2f} s per epoch median, "
            f"{train['train_img_s']:.0f} img/s, k-NN monitor every {train['monitor_interval']} "
            'epochs included).', '',
            f"**200 epochs projected: {_minutes(train['projected_200_epochs_s'])}** (start-up + "
            'first epoch + 199 x the mean later epoch)'
            + (f"; measured: {_minutes(train['wall_s'])}" if train['epochs'] >= 200 else '') + '.', '',
            f"k-NN monitor ({last.get('n_bank')} train / {last.get('n_query')} test images, "
            f"k={last.get('k')}): " + ', '.join(
                f"epoch {h['epoch']}: {h['top1']:.1f}%" for h in train['knn_monitor']), '',
            f"k-NN benchmark (whole train split as the bank, whole test split, k=200, T=0.1): "
            + (f"top-1 **{knn['top1']:.2f}%**, top-5 {knn['top5']:.2f}% ({knn['wall_s']:.0f} s)"
               if knn.get('top1') is not None else f"failed: {knn.get('error')}"), '']
        lines += ['## Side by side with the anchors', '',
                  '| run | method | epochs | k-NN top-1 % | linear top-1 % | time | hardware |',
                  '|---|---|---|---|---|---|---|',
                  f"| this check | MoCo v2 (demo settings), batch {summary['batch_size']} | "
                  f"{train['epochs']} | {_fmt(knn.get('top1'), 2)} (monitor {_fmt(last.get('top1'))}) "
                  f"| - | {_minutes(train['wall_s'])} | {env.get('gpu')} |",
                  f"| this check, projected | same | 200 | (not run) | - | "
                  f"{_minutes(train['projected_200_epochs_s'])} | {env.get('gpu')} |",
                  *[f"| {a['run']} | {a['method']} | {a['epochs']} | {a['knn']} | {a['linear']} | "
                    f"{a['time']} | {a['hardware']} |" for a in ANCHORS], '',
                  'The k-NN after fewer than 200 epochs (and a cosine schedule compressed to them) '
                  'is not comparable with the 200-epoch anchors; the time is.']
    targets = summary.get('targets', {})
    if targets:
        lines += ['', '## Targets of issue 24', '', '| target | value | met |', '|---|---|---|',
                  *[f"| {name} | {t['value']} | {'yes' if t['met'] else 'no'} |"
                    for name, t in targets.items()]]
    return '\n'.join(lines) + '\n'
