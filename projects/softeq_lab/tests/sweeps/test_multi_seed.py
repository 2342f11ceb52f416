"""softeq_lab.sweeps.multi_seed and softeq_lab.paper.compare_paper on a paper config (the
CIFAR-10 ViT of configs/paper/, encoder narrowed, tiny CIFAR data) with mmengine's real Runner.

Covered: the seed reaching ``randomness`` and every ``SeededSplitDataset``; one run per seed
tested on its best-val checkpoint (the paper's selection); mean / std written and equal to the
seeds' values; a second invocation computing nothing; a changed config refused; the table
next to the paper's cell; bad arguments.
"""
from importlib import import_module
import json
import math
import os
import os.path as osp
import statistics

import pytest
from fixtures.config_smoke import cifar_without_checksums, shrink_config
from fixtures.tools import load_tool
from mmengine.config import Config
from softeq_lab.sweeps.multi_seed import SUMMARY_FILE, summarise, with_seed

CONFIG = 'configs/paper/cifar/softeq_deit-s16_8xb16-30e_cifar10-paper-224px.py'
VOC = 'configs/paper/voc/softeq_linear_vit-b16_8xb4-4.1k_voc12-paper-224x224.py'


def test_with_seed_sets_the_run_seed_and_every_split_seed():
    cfg = Config.fromfile(VOC)
    seeded, splits = with_seed(cfg, 3)
    assert splits == 2 and seeded.randomness.seed == 3
    assert seeded.train_dataloader.dataset.seed == seeded.val_dataloader.dataset.seed == 3
    assert cfg.randomness.seed == 0 and cfg.train_dataloader.dataset.seed == 0  # a copy


def test_summarise_is_the_mean_and_sample_std_of_the_seeds():
    per_seed = {0: {'a': 1.0, 'b': 2.0, 'text': 'x'}, 1: {'a': 3.0, 'b': 2.0},
                2: {'a': 5.0, 'b': float('nan')}}
    summary = summarise(per_seed)
    assert summary['n'] == 3
    assert summary['mean'] == {'a': 3.0} and summary['std'] == {'a': 2.0}
    assert summarise({0: {'a': 1.5}})['std'] == {'a': 0.0}


def _tiny_cfg(roots, work_dir):
    def keep_best(cfg):
        # the config's own CheckpointHook (shrink_config drops it), with rule 'less': on the
        # tiny data the accuracy ties (0 %) at both epochs and the strict 'less' keeps epoch 1,
        # so the best checkpoint is not the last one
        cfg.default_hooks.checkpoint = Config.fromfile(CONFIG).default_hooks.checkpoint
        cfg.default_hooks.checkpoint.rule = 'less'
        cfg.train_cfg.max_epochs = 2
    return shrink_config(CONFIG, roots, work_dir, edit=keep_best)


def _test_checkpoint(cfg, checkpoint, work_dir):
    """The rotated test metrics of ``checkpoint`` in a fresh Runner."""
    from mmsofteq.apis.runs import _build_runner, _test_cfg
    return _build_runner(_test_cfg(cfg, checkpoint), work_dir, osp.basename(work_dir)).test()


@pytest.mark.slow
def test_runs_every_seed_once_and_tests_its_best_checkpoint(dataset_roots, tmp_path,
                                                           monkeypatch, capsys):
    cifar_without_checksums(monkeypatch)
    tool = import_module('softeq_lab.sweeps.multi_seed')
    work_dir = str(tmp_path / 'seeds')
    cfg = _tiny_cfg(dataset_roots, work_dir)
    first = tool.run_seeds(cfg, [0], work_dir, resume=False, config_path=CONFIG)
    assert first['n'] == 1
    # a later command with another seed: the summary covers both
    summary = tool.run_seeds(cfg, [1], work_dir, resume=False, config_path=CONFIG)
    assert summary['n'] == 2 and summary['seeds'] == [0, 1] and summary['config'] == CONFIG
    with open(osp.join(work_dir, SUMMARY_FILE), encoding='utf-8') as handle:
        assert json.load(handle) == summary
    for key in ('accuracy/top1', 'rotated_accuracy/top1', 'cAcc', 'iErr'):
        values = [summary['runs'][seed]['metrics'][key] for seed in ('0', '1')]
        assert all(math.isfinite(v) for v in values)
        assert summary['mean'][key] == pytest.approx(statistics.fmean(values))
        assert summary['std'][key] == pytest.approx(statistics.stdev(values))
    for seed in ('0', '1'):
        run = summary['runs'][seed]
        with open(osp.join(run['run_dir'], 'softness_sweep.json'), encoding='utf-8') as handle:
            record = json.load(handle)
        assert record['seed'] == int(seed) and record['stage'] == 'done'
        assert record['projection']['projected_tensors'] > 0
    # seed 0 was tested on its best checkpoint (epoch 1), not on the last weights (epoch 2)
    run = summary['runs']['0']
    assert osp.basename(run['checkpoint']) == 'best_accuracy_top1_epoch_1.pth'
    seed_cfg = with_seed(cfg, 0)[0]
    best = _test_checkpoint(seed_cfg, run['checkpoint'], str(tmp_path / 'best'))
    last = _test_checkpoint(seed_cfg, osp.join(run['run_dir'], 'epoch_2.pth'),
                            str(tmp_path / 'last'))
    assert run['metrics']['iErr'] == pytest.approx(best['iErr'], rel=1e-6)
    assert run['metrics']['iErr'] != pytest.approx(last['iErr'], rel=1e-3)
    printed = capsys.readouterr().out
    assert '| accuracy/top1 |' in printed and 'seed 1' in printed

    # a second invocation reads the records: no Runner is built
    stamps = {seed: os.stat(osp.join(work_dir, f'seed_{seed}', 'softness_sweep.json')).st_mtime_ns
              for seed in (0, 1)}
    again = tool.run_seeds(cfg, [0, 1], work_dir, resume=False, config_path=CONFIG)
    assert again['mean'] == summary['mean']
    assert stamps == {seed: os.stat(osp.join(work_dir, f'seed_{seed}',
                                             'softness_sweep.json')).st_mtime_ns
                      for seed in (0, 1)}

    # another config in the same work dir is refused, not mixed in
    changed = _tiny_cfg(dataset_roots, work_dir)
    changed.optim_wrapper.optimizer.lr = 1e-3
    assert tool.earlier_seeds(changed, work_dir) == {}
    from mmsofteq.apis import StaleRunError
    with pytest.raises(StaleRunError, match='another config'):
        tool.run_seeds(changed, [0], work_dir, resume=False, config_path=CONFIG)

    # next to the paper's cell (Tab. 1, CIFAR-10, ViT, Ours)
    compare = import_module('softeq_lab.paper.compare_paper')
    compare.main([work_dir])
    table = capsys.readouterr().out
    rows = [line for line in table.splitlines() if 'Tab. 1 CIFAR-10 ViT Ours' in line]
    assert [row.split('|')[3].strip() for row in rows] == ['Acc', 'aAcc', 'cAcc', 'iErr']
    assert '97.79' in rows[0] and '(n=2)' in rows[0]
    mean_acc = summary['mean']['accuracy/top1']
    assert f'{mean_acc - 97.79:+.2f}' in rows[0]


def test_collect_summarises_the_test_best_files_of_multi_gpu_runs(tmp_path, capsys):
    tool = import_module('softeq_lab.sweeps.multi_seed')
    train = load_tool('train.py')
    assert tool.TEST_BEST_FILE == train.TEST_BEST_FILE  # the writer's file name
    work_dir = tmp_path / 'seeds'
    for seed, acc in ((0, 90.0), (1, 92.0)):
        run_dir = work_dir / f'seed_{seed}'
        run_dir.mkdir(parents=True)
        train.write_test_best(str(run_dir), f'best_{seed}.pth',
                              {'accuracy/top1': acc, 'rotated_accuracy/top1': acc - 10,
                               'cAcc': acc - 5, 'iErr': 7.0})
    tool.main([CONFIG, '--seeds', '0', '1', '--work-dir', str(work_dir), '--collect'])
    with open(work_dir / SUMMARY_FILE, encoding='utf-8') as handle:
        summary = json.load(handle)
    assert summary['n'] == 2 and summary['mean']['accuracy/top1'] == 91.0
    assert summary['std']['accuracy/top1'] == pytest.approx(math.sqrt(2.0))
    assert summary['runs']['1']['checkpoint'] == 'best_1.pth'
    assert '91.00 ± 1.41' in capsys.readouterr().out
    with pytest.raises(SystemExit, match=r'no test_best.json for seed\(s\) \[2\]'):
        tool.main([CONFIG, '--seeds', '0', '2', '--work-dir', str(work_dir), '--collect'])


def test_compare_paper_lists_every_cell(capsys):
    from softeq_lab.paper.cells import CELLS
    import_module('softeq_lab.paper.compare_paper').main(['--list'])
    out = capsys.readouterr().out
    assert sum(line.startswith('| Tab.') for line in out.splitlines()) == len(CELLS)


def test_compare_paper_converts_imagenet_ierr_to_nats(tmp_path, capsys):
    summary = dict(config='configs/paper/imagenet/vit-b16_8xb16-15e_in1k-paper-224px.py', n=1,
                   mean={'accuracy/top1': 80.0, 'rotated_accuracy/top1': 70.0, 'cAcc': 75.0,
                         'iErr': 30.0},
                   std={'accuracy/top1': 0.0, 'rotated_accuracy/top1': 0.0, 'cAcc': 0.0,
                        'iErr': 0.0})
    path = tmp_path / SUMMARY_FILE
    path.write_text(json.dumps(summary))
    import_module('softeq_lab.paper.compare_paper').main([str(path)])
    rows = [line for line in capsys.readouterr().out.splitlines()
            if line.startswith('|') and line.split('|')[3].strip() == 'iErr']
    assert len(rows) == 1 and '0.30 ± 0.00 (n=1)' in rows[0] and '0.36' in rows[0]
    assert '-0.06' in rows[0]


def test_bad_arguments_are_refused(tmp_path, capsys):
    tool = import_module('softeq_lab.sweeps.multi_seed')
    for argv, message in (([CONFIG, '--seeds', '1', '1'], 'distinct'),
                          ([CONFIG, '--seeds', '-1'], '>= 0'),
                          ([CONFIG, '--collect'], '--collect reads the runs in --work-dir')):
        with pytest.raises(SystemExit):
            tool.main(argv)
        assert message in capsys.readouterr().err
    compare = import_module('softeq_lab.paper.compare_paper')
    with pytest.raises(SystemExit, match='no multi_seed.json'):
        compare.main([str(tmp_path)])
    other = tmp_path / SUMMARY_FILE
    other.write_text(json.dumps(dict(config='configs/vit_softeq_voc.py', n=1, mean={}, std={})))
    with pytest.raises(SystemExit, match='runs no paper cell'):
        compare.main([str(other)])
    with pytest.raises(SystemExit):
        compare.main([])


def test_best_checkpoint_follows_mmengines_file_names(tmp_path):
    """The file ``CheckpointHook(save_best=...)`` writes: ``best_<key with / as _>_*.pth``
    (``'auto'``: the evaluator's first metric, so any ``best_*``); the newest if several;
    ``None`` without ``save_best``."""
    import time

    from mmsofteq.apis import best_checkpoint, save_best_keys

    def cfg(save_best):
        hook = dict(type='CheckpointHook', interval=1)
        if save_best is not None:
            hook['save_best'] = save_best
        return Config(dict(default_hooks=dict(checkpoint=hook)))

    (tmp_path / 'epoch_2.pth').write_bytes(b'')
    assert save_best_keys(cfg(None)) == [] and best_checkpoint(cfg(None), str(tmp_path)) is None
    assert best_checkpoint(cfg('accuracy/top1'), str(tmp_path)) is None  # not saved yet
    older = tmp_path / 'best_accuracy_top1_epoch_1.pth'
    older.write_bytes(b'')
    time.sleep(0.01)
    newer = tmp_path / 'best_accuracy_top1_epoch_2.pth'
    newer.write_bytes(b'')
    assert best_checkpoint(cfg('accuracy/top1'), str(tmp_path)) == str(newer)
    assert best_checkpoint(cfg(['accuracy/top1', 'cAcc']), str(tmp_path)) == str(newer)
    assert best_checkpoint(cfg('auto'), str(tmp_path)) == str(newer)
    assert best_checkpoint(cfg('mIoU'), str(tmp_path)) is None
