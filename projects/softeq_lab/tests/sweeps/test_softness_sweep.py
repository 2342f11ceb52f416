"""softeq_lab.sweeps.softness_sweep with mmengine's real Runner on a tiny SegFormer and
VOC-layout data.

Covered: one training + rotated test per softness, the CSV and the PNG, the softness reaching
the model, a second invocation computing nothing, a crash after training (evaluation resumes
from the checkpoint, no retraining), a sweep interrupted during training (``--resume``
continues from its latest checkpoint), ``--skip-train`` with the hook, and bad inputs.
"""
import csv
from importlib import import_module
import json
import math
import os
import os.path as osp
import shutil
import textwrap

import pytest
import torch
from fixtures import make_tiny_voc, tiny_segformer_cfg
from mmengine.config import Config
from mmsofteq.apis.runs import RECORD_FILE
from softeq_lab.sweeps.softness import with_softness

pytestmark = pytest.mark.slow  # real Runner / subprocess runs

METRICS = ('mIoU', 'aIoU', 'cIoU', 'eErr')


def write_config(path, data_root, *, max_iters=2, checkpoint_interval=None, softeq='model',
                 rotated=True, test_split='test', extra_hooks=(), imports=()):
    """A tiny SegFormer config file: softeq by wrapper or hook (or none), rotated test eval.

    No validation during training: the sweep evaluates with ``Runner.test()`` on the split
    ``test_split`` (a copy of ``val.txt``).
    """
    cfg = tiny_segformer_cfg(data_root, osp.join(osp.dirname(path), 'unused'), num_classes=4,
                             max_iters=max_iters, checkpoint_interval=checkpoint_interval,
                             norm_type='BN')
    cfg.custom_imports = dict(imports=['mmsofteq', *imports], allow_failed_imports=False)
    cfg.randomness = dict(seed=0)
    softeq_cfg = dict(group='SO2', softness=0.9)
    if softeq == 'model':
        cfg.model = dict(type='mmsofteq.SoftEqModel', model=cfg.model, softeq=softeq_cfg)
    elif softeq == 'hook':
        cfg.custom_hooks = [dict(type='mmsofteq.SoftEqHook', softeq=softeq_cfg)]
    if extra_hooks:
        cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + list(extra_hooks)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.test_dataloader.dataset.ann_file = f'ImageSets/Segmentation/{test_split}.txt'
    if rotated:
        cfg.test_cfg = dict(type='mmsofteq.RotatedTestLoop')
        cfg.test_evaluator = dict(type='mmsofteq.RotatedIoUMetric')
    cfg.dump(str(path))
    return str(path)


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = make_tiny_voc(tmp_path_factory.mktemp('sweep') / 'voc', num_images=6, size=32,
                         num_classes=4)
    split = osp.join(root, 'ImageSets', 'Segmentation')
    shutil.copy(osp.join(split, 'val.txt'), osp.join(split, 'test.txt'))
    return root


@pytest.fixture(scope='module')
def tool():
    return import_module('softeq_lab.sweeps.softness_sweep')


def read_csv(path):
    with open(path, newline='', encoding='utf-8') as file:
        return list(csv.DictReader(file))


def record(run_dir):
    with open(osp.join(run_dir, RECORD_FILE), encoding='utf-8') as file:
        return json.load(file)


@pytest.fixture(scope='module')
def swept(data_root, tool, tmp_path_factory):
    """Sweep softness 0 and 0.5 of the wrapper config: training and rotated test each."""
    root = tmp_path_factory.mktemp('swept')
    config = write_config(root / 'tiny_sweep.py', data_root)
    work_dir = str(root / 'sweep')
    result = tool.main([config, '--softness', '0', '0.5', '--work-dir', work_dir])
    return config, work_dir, result


def test_sweep_trains_and_tests_each_softness_and_writes_csv_and_plot(swept):
    config, work_dir, result = swept
    assert result.ran == [0.0, 0.5]
    rows = read_csv(osp.join(work_dir, 'softness_sweep.csv'))
    assert osp.abspath(result.csv_path) == osp.abspath(osp.join(work_dir, 'softness_sweep.csv'))
    assert [float(row['softness']) for row in rows] == [0.0, 0.5]
    for row in rows:
        for key in METRICS:
            assert math.isfinite(float(row[key])), (key, row)
        assert row['trained'] == 'True'
        assert osp.isfile(row['checkpoint']) and row['checkpoint'].endswith('iter_2.pth')
    with open(result.plot_path, 'rb') as file:
        assert file.read(8) == b'\x89PNG\r\n\x1a\n'
    assert result.plot_path == osp.join(work_dir, 'softness_sweep.png')


def test_the_softness_reaches_each_runs_model(swept):
    _, work_dir, _ = swept
    runs = {softness: osp.join(work_dir, f'softness_{softness}') for softness in ('0', '0.5')}
    projections = {softness: record(run_dir)['projection'] for softness, run_dir in runs.items()}
    # the projection report of the model each Runner trained
    assert projections['0']['applied_softness'] == [0.0]
    assert projections['0.5']['applied_softness'] == [0.5]
    assert projections['0']['projected_tensors'] == projections['0.5']['projected_tensors'] > 0
    assert (projections['0']['kept_directions'] < projections['0.5']['kept_directions']
            < projections['0.5']['total_directions'])
    rows = read_csv(osp.join(work_dir, 'softness_sweep.csv'))
    assert [int(row['kept_directions']) for row in rows] == [
        projections['0']['kept_directions'], projections['0.5']['kept_directions']]
    # the config each Runner dumped into its work dir
    for softness, run_dir in runs.items():
        dumped = Config.fromfile(osp.join(run_dir, 'tiny_sweep.py'))
        assert dumped.model.softeq.softness == float(softness)


def test_second_invocation_reads_finished_runs_and_trains_nothing(swept, tool, capsys):
    config, work_dir, _ = swept
    checkpoints = [osp.join(work_dir, f'softness_{s}', 'iter_2.pth') for s in ('0', '0.5')]
    stamps = [os.stat(path).st_mtime_ns for path in checkpoints]
    before = read_csv(osp.join(work_dir, 'softness_sweep.csv'))
    result = tool.main([config, '--softness', '0', '0.5', '--work-dir', work_dir])
    assert result.ran == []
    assert '0 run(s) computed, 2 read from earlier runs' in capsys.readouterr().out
    assert [os.stat(path).st_mtime_ns for path in checkpoints] == stamps
    assert read_csv(osp.join(work_dir, 'softness_sweep.csv')) == before


def test_a_changed_config_does_not_reuse_the_runs(swept, tool, capsys):
    config, work_dir, _ = swept
    with pytest.raises(SystemExit) as error:
        tool.main([config, '--softness', '0', '--work-dir', work_dir, '--cfg-options',
                   'optim_wrapper.optimizer.lr=0.5'])
    assert error.value.code == 2
    assert 'not reused' in capsys.readouterr().err


def test_crash_in_evaluation_resumes_from_the_trained_checkpoint(data_root, tool, tmp_path):
    split = osp.join(data_root, 'ImageSets', 'Segmentation')
    config = write_config(tmp_path / 'tiny_sweep.py', data_root, test_split='crash_test')
    work_dir = str(tmp_path / 'sweep')
    with pytest.raises(AssertionError, match='crash_test.txt'):  # mmseg: no such ann_file
        tool.main([config, '--softness', '0.5', '--work-dir', work_dir])
    run_dir = osp.join(work_dir, 'softness_0.5')
    state = record(run_dir)
    assert state['stage'] == 'trained' and state['checkpoint'].endswith('iter_2.pth')
    stamp = os.stat(state['checkpoint']).st_mtime_ns

    shutil.copy(osp.join(split, 'val.txt'), osp.join(split, 'crash_test.txt'))
    result = tool.main([config, '--softness', '0.5', '--work-dir', work_dir])
    assert result.ran == [0.5]
    assert os.stat(state['checkpoint']).st_mtime_ns == stamp  # not trained again
    assert record(run_dir)['stage'] == 'done'
    assert all(math.isfinite(result.rows[0][key]) for key in METRICS)


INTERRUPT_HOOK = textwrap.dedent("""
    from mmengine.hooks import Hook
    from mmengine.registry import HOOKS


    @HOOKS.register_module(force=True)
    class InterruptTrainingAt(Hook):
        \"\"\"Ctrl-C (KeyboardInterrupt) right after iteration `iteration` of a training that
        started from scratch; a resumed training (or iteration=None) is never interrupted.\"\"\"

        priority = 'LOWEST'  # after CheckpointHook (VERY_LOW) saved this iteration

        def __init__(self, iteration=None):
            self.iteration = iteration

        def before_train(self, runner):  # after load_or_resume: runner.iter is the resumed one
            self.from_scratch = runner.iter == 0

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            if self.from_scratch and runner.iter + 1 == self.iteration:
                raise KeyboardInterrupt(f'interrupted after iteration {self.iteration}')
""")


def test_interrupted_training_continues_with_resume(data_root, tool, tmp_path, monkeypatch):
    """Interrupt a sweep during training, right after the checkpoint of iteration 4 (a hook
    raises KeyboardInterrupt there: deterministic); ``--resume`` finishes it from that
    checkpoint, and ends with the weights and metrics of an uninterrupted run."""
    (tmp_path / 'hooks').mkdir()
    (tmp_path / 'hooks' / 'sweep_interrupt_hook.py').write_text(INTERRUPT_HOOK)
    monkeypatch.syspath_prepend(str(tmp_path / 'hooks'))
    max_iters, interrupted_at = 6, 4

    def config(name, iteration):
        return write_config(tmp_path / name, data_root, max_iters=max_iters,
                            checkpoint_interval=2, imports=['sweep_interrupt_hook'],
                            extra_hooks=[dict(type='InterruptTrainingAt', iteration=iteration)])

    interrupted = config('tiny_sweep.py', interrupted_at)
    work_dir = str(tmp_path / 'sweep')
    run_dir = osp.join(work_dir, 'softness_0.5')
    with pytest.raises(KeyboardInterrupt, match=f'after iteration {interrupted_at}'):
        tool.main([interrupted, '--softness', '0.5', '--work-dir', work_dir])
    assert record(run_dir)['stage'] == 'started'
    with open(osp.join(run_dir, 'last_checkpoint'), encoding='utf-8') as file:
        assert osp.basename(file.read().strip()) == f'iter_{interrupted_at}.pth'
    assert not osp.exists(osp.join(run_dir, f'iter_{max_iters}.pth'))

    result = tool.main([interrupted, '--softness', '0.5', '--work-dir', work_dir, '--resume'])
    assert result.ran == [0.5]
    state = record(run_dir)
    assert state['stage'] == 'done'
    assert state['checkpoint'].endswith(f'iter_{max_iters}.pth')
    logs = sorted(name for name in os.listdir(run_dir) if name[:1].isdigit())
    with open(osp.join(run_dir, logs[-1], f'{logs[-1]}.log'), encoding='utf-8') as file:
        log = file.read()
    assert f'resumed epoch: 0, iter: {interrupted_at}' in log
    assert f'[{interrupted_at + 1}/{max_iters}]' in log
    assert f'[1/{max_iters}]' not in log  # continued, not restarted

    # the same training without the interruption (the hook is there but never fires)
    reference = tool.main([config('tiny_reference.py', None), '--softness', '0.5',
                           '--work-dir', str(tmp_path / 'reference')])
    reference_state = record(osp.join(str(tmp_path / 'reference'), 'softness_0.5'))

    def weights(path):
        return torch.load(path, map_location='cpu', weights_only=False)['state_dict']

    resumed, straight = weights(state['checkpoint']), weights(reference_state['checkpoint'])
    assert list(resumed) == list(straight)
    for key, value in straight.items():
        assert torch.equal(resumed[key], value), key
    for key in METRICS:
        assert result.rows[0][key] == pytest.approx(reference.rows[0][key], abs=1e-6), key


def test_skip_train_evaluates_the_hook_config_at_each_softness(data_root, tool, tmp_path):
    config = write_config(tmp_path / 'tiny_hook.py', data_root, softeq='hook')
    work_dir = str(tmp_path / 'sweep')
    result = tool.main([config, '--softness', '1', '0', '--work-dir', work_dir,
                        '--skip-train'])
    assert [row['softness'] for row in result.rows] == [1.0, 0.0]
    identity, strict = result.rows
    assert identity['trained'] is False and identity['checkpoint'] is None
    assert identity['projected_tensors'] == 0
    assert identity['kept_directions'] == identity['total_directions'] > 0
    assert strict['projected_tensors'] > 0
    assert strict['kept_directions'] < strict['total_directions']
    assert not any(name.endswith('.pth') for name in os.listdir(osp.join(work_dir, 'softness_0')))
    for row in result.rows:
        assert all(math.isfinite(row[key]) for key in METRICS)


@pytest.fixture(scope='module')
def bad_configs(data_root, tmp_path_factory):
    root = tmp_path_factory.mktemp('bad')
    return dict(
        ok=write_config(root / 'ok.py', data_root),
        no_softeq=write_config(root / 'no_softeq.py', data_root, softeq=None),
        not_rotated=write_config(root / 'not_rotated.py', data_root, rotated=False),
    )


@pytest.mark.parametrize('config, softness, extra, message', [
    ('ok', ['0', '1.5'], [], 'softness must be in [0, 1]'),
    ('ok', ['-0.1'], [], 'softness must be in [0, 1]'),
    ('ok', ['nan'], [], 'softness must be in [0, 1]'),
    ('ok', ['half'], [], "softness 'half' is not a number"),
    ('ok', ['0.5', '0', '0.50'], [], 'softness value(s) 0.5 given more than once'),
    ('ok', ['0.5'], ['--kinds', 'patch'], "unknown softness kind(s) ['patch']"),
    ('no_softeq', ['0.5'], [], "model = dict(type='mmsofteq.SoftEqModel', model=_base_.model"),
    ('no_softeq', ['0.5'], [], "default_hooks = dict(softeq=dict(type='mmsofteq.SoftEqHook'"),
    ('not_rotated', ['0.5'], [], "test_cfg = dict(type='mmsofteq.RotatedTestLoop')"),
])
def test_bad_inputs_fail_before_any_run(bad_configs, tool, tmp_path, capsys, config, softness,
                                        extra, message):
    work_dir = tmp_path / 'sweep'
    with pytest.raises(SystemExit) as error:
        tool.main([bad_configs[config], '--softness', *softness, '--work-dir', str(work_dir),
                   *extra])
    assert error.value.code == 2
    assert message in capsys.readouterr().err
    assert not work_dir.exists()


def test_with_softness_sets_every_kind_or_only_the_named_ones():
    per_kind = dict(group='SO2', softness=dict(patch_embed=1.0, pos_embed=0.9))
    cfg = Config(dict(softeq=per_kind, model=dict(type='mmsofteq.SoftEqModel', model=dict(
        type='EncoderDecoder'), softeq=per_kind)))
    every = with_softness(cfg, 0.5)
    assert every.model.softeq.softness == 0.5 and every.softeq.softness == 0.5
    only = with_softness(cfg, 0.5, kinds=['pos_embed'])
    assert only.model.softeq.softness == dict(patch_embed=1.0, pos_embed=0.5)
    assert cfg.model.softeq.softness == dict(patch_embed=1.0, pos_embed=0.9)  # not modified

    hook = Config(dict(model=dict(type='EncoderDecoder'), custom_hooks=[
        dict(type='CheckInvalidLossHook'),
        dict(type='mmsofteq.SoftEqHook', softeq=dict(group='C4', softness=0.9))]))
    swept = with_softness(hook, 0.0, kinds=['conv'])
    assert swept.custom_hooks[1].softeq.softness == dict(default=0.9, conv=0.0)
    assert swept.custom_hooks[0] == dict(type='CheckInvalidLossHook')


def test_classification_rows_and_plot_read_the_rotated_accuracy_keys(tmp_path):
    """The classification branch without training: task, row, CSV and plot."""
    from softeq_lab.sweeps.plan import record_row
    from softeq_lab.csv_rows import write_csv
    from softeq_lab.sweeps.results import evaluation_task, plot_tradeoff
    from mmsofteq.apis import RunRecord

    cfg = Config(dict(test_cfg=dict(type='mmsofteq.RotatedTestLoop'),
                      test_evaluator=[dict(type='mmsofteq.RotatedAccuracy', topk=(1, 5))]))
    assert evaluation_task(cfg) == 'classification'
    rows = []
    for softness, acc, ierr in ((1.0, 90.0, 3.0), (0.0, 80.0, 1.0)):
        state = RunRecord(softness=softness, fingerprint='f', mode='train', stage='done',
                          checkpoint=f'epoch_{softness}.pth',
                          metrics={'cls/accuracy/top1': acc,
                                   'cls/rotated_accuracy/top1': acc - 5, 'cls/cAcc': acc - 2,
                                   'cls/iErr': ierr, 'cls/accuracy/top5': 99.0},
                          projection=dict(projected_tensors=3, kept_directions=9,
                                          total_directions=27))
        rows.append(record_row(state, 'classification', f'run_{softness}'))
    assert list(rows[0])[:5] == ['softness', 'accuracy/top1', 'rotated_accuracy/top1', 'cAcc',
                                 'iErr']
    assert rows[1]['iErr'] == 1.0 and rows[1]['cls/accuracy/top5'] == 99.0
    assert read_csv(write_csv(rows, str(tmp_path / 'sweep.csv')))[1]['accuracy/top1'] == '80.0'
    path = plot_tradeoff(rows, 'classification', str(tmp_path / 'sweep.png'))
    with open(path, 'rb') as file:
        assert file.read(8) == b'\x89PNG\r\n\x1a\n'

    with pytest.raises(ValueError, match='RotatedTestLoop'):
        evaluation_task(Config(dict(test_cfg=dict(type='TestLoop'),
                                    test_evaluator=dict(type='mmsofteq.RotatedAccuracy'))))
