"""tools/sweep.py: statistics of the table (intervals, --baseline with Welch's p) and the
queue-fraction check, on fixed run summaries (nothing trains)."""
import json
from pathlib import Path

import pytest

from moco_plugin.cli import sweep as sweep_cli
from moco_plugin.experiments import sweep as sweep_experiment, sweep_runs
from moco_plugin.experiments.sweep_table import table
from moco_plugin.experiments.sweep_spec import check_runs, expand, load_spec
from tests.test_tools.test_sweep import SMALL, _spec


def _write_run(work, spec_name, run_id, values, knn_top1, seed):
    path = work / spec_name / run_id / 'run.json'
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(dict(run_id=run_id, values=values, seed=seed, iters=4,
                                    batch_size=16, train_wall_s=1.0, images_per_s=64.0,
                                    knn_top1=knn_top1, linear_top1=None)))


def test_report_only_with_a_baseline_shows_intervals_and_welch_p(tmp_path, monkeypatch, capsys):
    from scipy import stats
    spec_path = _spec(tmp_path, seeds=[0, 1], sweep={'model.queue_len': [16, 32, 64]})
    scores = {16: [10.0, 10.5], 32: [12.5, 13.5], 64: [11.0]}
    for k, values in scores.items():
        for seed, score in enumerate(values):
            _write_run(tmp_path / 'work', 'k', f'queue_len={k}_seed{seed}', {'model.queue_len': k},
                       score, seed)
    monkeypatch.setattr(sweep_runs.subprocess, 'call', lambda *a, **k: pytest.fail('trained'))
    monkeypatch.setattr(sweep_experiment, 'count_dataset', lambda cfg: pytest.fail('counted'))
    out = tmp_path / 'page.md'
    sweep_cli.sweep(sweep_cli.parse_args([str(spec_path), '--report-only', '--baseline', '16',
                                          '--work-root', str(tmp_path / 'work'), '--out', str(out)]))
    lines = out.read_text().splitlines()
    head = next(ln for ln in lines if ln.startswith('| model.queue_len'))
    assert head == ('| model.queue_len | n | k-NN top-1 mean | std | 95 % interval | per seed | Δ vs 16 | '
                    'Δ 95 % interval | Welch p | iterations | images/s | train wall s |')
    rows = {ln.split(' | ')[0][2:]: ln.split(' | ') for ln in lines if ln[:5] in ('| 16 ', '| 32 ', '| 64 ')}
    # 32 vs 16: means 13.0 and 10.25, Welch p = 0.0693 (scipy.stats.ttest_ind, equal_var=False)
    welch = stats.ttest_ind(scores[32], scores[16], equal_var=False)
    p, (low, high) = welch.pvalue, welch.confidence_interval(0.95)
    assert round(p, 4) == 0.0693
    half = stats.t.ppf(0.975, 1) * stats.tstd(scores[32]) / 2 ** 0.5
    assert rows['32'][1:9] == ['2', '13.00', '0.71', f'[{13 - half:.2f}, {13 + half:.2f}]',
                               '12.50 / 13.50', '+2.75', f'[{low:+.2f}, {high:+.2f}]', f'{p:.2g}']
    # by hand: se = sqrt(0.5 / 2 + 0.125 / 2) = 0.559, Welch-Satterthwaite df = 1.47,
    # t(0.975, 1.47) = 6.19: 2.75 -+ 3.46
    assert rows['32'][4] == '[6.65, 19.35]' and rows['32'][7:9] == ['[-0.71, +6.21]', '0.069']
    assert rows['16'][6:9] == ['baseline', '-', '-']
    assert rows['64'][1:9] == ['1', '11.00', '-', '-', '11.00', '+0.75', '-', '-']  # one seed: no test
    assert "--baseline '16'" in out.read_text() and 'Student t with n - 1' in out.read_text()
    assert 'Not run yet: queue_len=64_seed1.' in out.read_text()
    from moco_plugin.experiments.sweep_plots import interval_points
    points = interval_points(load_spec(spec_path), [json.loads(p.read_text()) for p in
                                                    sorted((tmp_path / 'work').glob('k/*/run.json'))])
    assert [(x, round(m, 2), round(h, 2)) for x, m, h in points] == [
        (16, 10.25, 3.18), (32, 13.0, 6.35), (64, 11.0, 0.0)]


def test_an_unknown_baseline_is_a_one_line_error_before_any_run(tmp_path, monkeypatch):
    spec_path = _spec(tmp_path)
    monkeypatch.setattr(sweep_experiment, 'run_one', lambda *a: pytest.fail('a run started'))
    monkeypatch.setattr(sweep_experiment, 'count_dataset', lambda cfg: 64)
    with pytest.raises(ValueError, match=r"--baseline '256' is none of the sweep points; use one "
                                         r"of '32', '64'$"):
        sweep_cli.sweep(sweep_cli.parse_args([str(spec_path), '--baseline', '256']))
    # the run id form names a point too
    spec = load_spec(spec_path)
    summaries = [dict(values=r.values, knn_top1=v, iters=4, images_per_s=1.0, train_wall_s=1.0)
                 for r, v in zip(expand(spec), (20.0, 21.0))]
    assert '| 64 | 1 | 21.00 | - | - | 21.00 | baseline | - | - |' in table(
        spec, summaries, 'queue_len=64')
    with pytest.raises(ValueError, match="--baseline '64': that point has no finished run"):
        table(spec, summaries[:1], '64')
    # an interval that excludes 0 is a finding, in bold: 14.1 - 10.25, Welch df = 1.28
    two = [dict(values=r.values, knn_top1=v, iters=4, images_per_s=1.0, train_wall_s=1.0)
           for r, v in zip(expand(load_spec(_spec(tmp_path, seeds=[0, 1]))),
                           (10.0, 10.5, 14.0, 14.2))]
    from scipy import stats
    low, high = stats.ttest_ind([14.0, 14.2], [10.0, 10.5], equal_var=False).confidence_interval()
    assert low > 0 and f'| +3.85 | **[{low:+.2f}, {high:+.2f}]** |' in table(spec, two, '32')
    assert 'excludes 0 (in bold), otherwise no difference is detected' in table(spec, two, '32')


def test_a_queue_above_the_set_fraction_of_the_training_set_is_refused(tmp_path):
    # 64 training images (subset_size); default max_queue_fraction 0.5: K=32 passes, K=48 and
    # K=64 hold most of the set (own-image negatives) although both are <= the 64 keys seen.
    path = _spec(tmp_path, sweep={'model.queue_len': [32, 48, 64]})
    data = json.loads(path.read_text())
    del data['max_queue_fraction']
    path.write_text(json.dumps(data))
    spec = load_spec(path)
    assert spec.max_queue_fraction == 0.5
    problems = check_runs(spec, expand(spec), count_dataset=lambda cfg: pytest.fail('counted'))
    assert problems == [
        f'queue_len={k}_seed0: queue_len {k} is {share} of the 64 training images, above '
        "max_queue_fraction 0.5 (older keys of a query's own image would be among its "
        'negatives); lower queue_len or raise "max_queue_fraction" in the spec'
        for k, share in ((48, '75%'), (64, '100%'))]
    # without subset_size the dataset's length counts (CIFAR-10: 50,000)
    data['cfg_options'] = {**SMALL, 'train_dataloader.dataset.subset_size': None,
                           'train_cfg.max_epochs': 2}
    data['sweep'] = {'model.queue_len': [16384, 32768]}
    path.write_text(json.dumps(data))
    spec = load_spec(path)
    problems = check_runs(spec, expand(spec), count_dataset=lambda cfg: 50000)
    assert len(problems) == 1 and problems[0].startswith(
        'queue_len=32768_seed0: queue_len 32768 is 66% of the 50000 training images')
    data['max_queue_fraction'] = 0.7
    path.write_text(json.dumps(data))
    spec = load_spec(path)
    assert check_runs(spec, expand(spec), count_dataset=lambda cfg: 50000) == []


@pytest.mark.parametrize('fraction', [0, -0.1, 'half', True])
def test_a_bad_max_queue_fraction_is_refused(tmp_path, fraction):
    with pytest.raises(ValueError, match=r'"max_queue_fraction" is the largest share .* a number '
                                         r'> 0; got'):
        load_spec(_spec(tmp_path, max_queue_fraction=fraction))


def test_committed_specs_pass_the_queue_fraction_check():
    # the specs of the committed pages say how much of the training set their queue holds
    for name, fraction in (('queue_size', 0.85), ('resolution_budget', 1.3)):
        spec = load_spec(Path(__file__).resolve().parents[2] / 'benchmarks' / 'specs'
                         / f'{name}.json')
        assert spec.max_queue_fraction == fraction


def test_queue_shares_are_read_from_the_run_log_and_shown_per_point(tmp_path):
    run = tmp_path / 'run'
    logged = run / '20260101_000000' / 'vis_data' / 'scalars.json'
    logged.parent.mkdir(parents=True)
    steps = [dict(loss=5.0, step=1, **{'queue/own_image_share': 0.0, 'queue/initial_fill_share': 1.0}),
             dict(lr=0.1, step=1),  # a line without them
             dict(loss=4.0, step=2, **{'queue/own_image_share': 0.25, 'queue/initial_fill_share': 0.5})]
    logged.write_text('\n'.join(json.dumps(s) for s in steps) + '\n')
    assert sweep_runs.queue_diagnostics(run) == dict(own_image_share=0.125, initial_fill_share=0.75)
    assert sweep_runs.queue_diagnostics(tmp_path / 'none') == {}
    spec = load_spec(_spec(tmp_path, seeds=[0, 1], sweep={'model.queue_len': [16, 32]}))
    base = dict(iters=4, batch_size=16, train_wall_s=1.0, images_per_s=64.0, linear_top1=None)
    summaries = [dict(base, run_id=f'queue_len={k}_seed{s}', values={'model.queue_len': k}, seed=s,
                      knn_top1=10.0 + s, own_image_share=own, initial_fill_share=fill)
                 for k, s, own, fill in ((16, 0, 0.0, 0.1), (16, 1, 0.0, 0.3), (32, 0, 0.2, 0.4),
                                         (32, 1, 0.4, 0.4))]
    lines = table(spec, summaries).splitlines()
    assert lines[0].endswith('| train wall s | own-image share | initial-fill share |')
    assert lines[2].endswith('| 0.000 | 0.200 |') and lines[3].endswith('| 0.300 | 0.400 |')
    assert 'share of queries with an older key of their own image' in lines[-1]
    without = table(spec, [{k: v for k, v in s.items() if 'share' not in k} for s in summaries])
    assert 'own-image' not in without


def test_the_committed_summaries_rebuild_the_page_byte_for_byte(tmp_path, monkeypatch):
    spec_path = _spec(tmp_path, seeds=[0, 1], sweep={'model.queue_len': [16, 32]})
    for k, scores in {16: [10.0, 10.5], 32: [12.5, 13.5]}.items():
        for seed, score in enumerate(scores):
            _write_run(tmp_path / 'work', 'k', f'queue_len={k}_seed{seed}', {'model.queue_len': k},
                       score, seed)
    monkeypatch.setattr(sweep_runs.subprocess, 'call', lambda *a, **k: pytest.fail('trained'))
    monkeypatch.setattr(sweep_experiment, 'count_dataset', lambda cfg: pytest.fail('counted'))
    out = tmp_path / 'results' / 'k.md'
    out.parent.mkdir()
    args = [str(spec_path), '--report-only', '--baseline', '16', '--out', str(out)]
    sweep_cli.sweep(sweep_cli.parse_args(args + ['--work-root', str(tmp_path / 'work')]))
    committed = out.with_name('k_runs.json')
    page, png = out.read_text(), out.with_suffix('.png').read_bytes()
    assert [r['knn_top1'] for r in json.loads(committed.read_text())] == [10.0, 10.5, 12.5, 13.5]
    out.unlink()
    # the runs' folders are gone (work_dirs is not committed): the summaries beside the page
    sweep_cli.sweep(sweep_cli.parse_args(args + ['--work-root', str(tmp_path / 'gone')]))
    assert out.read_text() == page and out.with_suffix('.png').read_bytes() == png
    committed.unlink()
    with pytest.raises(FileNotFoundError, match='and no k_runs.json beside the page'):
        sweep_experiment.run_sweep(sweep_experiment.SweepSettings(
            spec=spec_path, out=out, report_only=True, work_root=tmp_path / 'gone'), print)


def _fake_training(tmp_path, monkeypatch, trained):
    """run_one that 'trains' by writing a summary with k-NN 30 + seed (and records the run)."""
    def run_one(spec, run, work_root, data_root, say):
        trained.append(run.run_id)
        summary = dict(run_id=run.run_id, values=run.values, seed=run.seed, iters=4, batch_size=16,
                       train_wall_s=1.0, images_per_s=64.0, knn_top1=30.0 + run.seed,
                       linear_top1=None, source=f'{spec.name}/{run.run_id}',
                       identity=sweep_runs.run_identity(sweep_runs.run_config(spec, run), spec,
                                                        data_root))
        path = work_root / spec.name / run.run_id / 'run.json'
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(summary))
        return summary
    monkeypatch.setattr(sweep_experiment, 'run_one', run_one)
    monkeypatch.setattr(sweep_experiment, 'count_dataset', lambda cfg: 64)


def test_adding_a_seed_keeps_the_committed_runs_of_the_other_seeds(tmp_path, monkeypatch):
    # The page's runs were committed (k_runs.json) and their folders are gone; '--seeds 1'
    # trains seed 1 only, and the page and its summaries still hold seed 0 (was: seed 1 alone).
    spec_path = _spec(tmp_path, seeds=[0, 1], sweep={'model.queue_len': [16, 32]})
    out = tmp_path / 'results' / 'k.md'
    trained = []
    _fake_training(tmp_path, monkeypatch, trained)
    first = sweep_experiment.SweepSettings(spec=spec_path, out=out, seeds=[0],
                                           work_root=tmp_path / 'work1')
    sweep_experiment.run_sweep(first, lambda _: None)
    assert trained == ['queue_len=16_seed0', 'queue_len=32_seed0']
    assert 'Not run yet: queue_len=16_seed1, queue_len=32_seed1.' in out.read_text()
    committed = json.loads(out.with_name('k_runs.json').read_text())
    # one committed summary made with another config (e.g. before a code change) is retrained
    committed[1]['identity'] = 'stale'
    out.with_name('k_runs.json').write_text(json.dumps(committed))
    trained.clear()
    said = []
    second = sweep_experiment.SweepSettings(spec=spec_path, out=out, seeds=[1], baseline='16',
                                            work_root=tmp_path / 'work2')
    summaries = sweep_experiment.run_sweep(second, said.append)
    assert trained == ['queue_len=16_seed1', 'queue_len=32_seed1']
    assert said[1] == f"k: 1 run(s) from {out.with_name('k_runs.json')}: queue_len=16_seed0"
    assert [s['run_id'] for s in summaries] == [
        'queue_len=16_seed0', 'queue_len=16_seed1', 'queue_len=32_seed1']
    page = out.read_text()
    assert '| 16 | 2 | 30.50 |' in page and '| 32 | 1 | 31.00 |' in page
    assert 'Not run yet: queue_len=32_seed0.' in page
    assert [s['run_id'] for s in json.loads(out.with_name('k_runs.json').read_text())] == [
        'queue_len=16_seed0', 'queue_len=16_seed1', 'queue_len=32_seed1']


def test_seeds_beyond_the_specs_are_added_to_its_page(tmp_path, monkeypatch):
    spec_path = _spec(tmp_path, seeds=[0], sweep={'model.queue_len': [16]})
    trained = []
    _fake_training(tmp_path, monkeypatch, trained)
    settings = sweep_experiment.SweepSettings(spec=spec_path, out=tmp_path / 'k.md', seeds=[0, 3],
                                              work_root=tmp_path / 'work')
    summaries = sweep_experiment.run_sweep(settings, lambda _: None)
    assert trained == ['queue_len=16_seed0', 'queue_len=16_seed3']
    assert [s['knn_top1'] for s in summaries] == [30.0, 33.0]
