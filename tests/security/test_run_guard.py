"""The checkpoint paths a resumed checkpoint names, end to end through tools/train.py: mmengine's
``CheckpointHook(save_best=...)`` deletes the previous best at the first better validation, at
the path read from the loaded ``message_hub`` (with ``rmtree`` for a folder). With
``mmsofteq.RunGuardHook`` (which mmsofteq's tools add) a crafted path outside the work dir, or
another run's best checkpoint, is never deleted; switching the guard off shows the attack."""
import os
import os.path as osp

import pytest
import torch
from fixtures import make_tiny_voc, tiny_segformer_cfg
from fixtures.tools import load_tool

pytestmark = pytest.mark.slow  # real Runner runs


@pytest.fixture(scope='module')
def run_a(tmp_path_factory):
    """``(config, run A's work dir)``: 2 iterations, validation and save_best=mIoU each."""
    root = tmp_path_factory.mktemp('guard')
    data_root = make_tiny_voc(root / 'voc', num_images=4, size=32, num_classes=4)
    cfg = tiny_segformer_cfg(data_root, root / 'unused', num_classes=4, max_iters=2,
                             val_interval=1, checkpoint_interval=1, norm_type='BN')
    cfg.default_hooks.checkpoint.save_best = 'mIoU'
    cfg.default_hooks.checkpoint.rule = 'greater'
    config = str(root / 'segformer.py')
    cfg.dump(config)
    load_tool('train.py').main([config, '--work-dir', str(root / 'a')])
    return config, root / 'a'


def _crafted(run_a, tmp_path, target):
    """Run A's first checkpoint, naming ``target`` as the best so far (score -inf)."""
    checkpoint = torch.load(run_a / 'iter_1.pth', weights_only=False)
    info = checkpoint['message_hub']['runtime_info']
    info.update(best_ckpt=str(target), best_score=float('-inf'))
    path = tmp_path / 'crafted.pth'
    torch.save(checkpoint, path)
    return str(path)


def _resume(config, checkpoint, work_dir, *options):
    load_tool('train.py').main([config, '--work-dir', str(work_dir), '--resume', checkpoint,
                                '--cfg-options', 'train_cfg.max_iters=3', *options])


@pytest.mark.parametrize('guard', [True, False])
def test_a_crafted_best_path_deletes_nothing_outside_the_work_dir(run_a, tmp_path, guard):
    config, a = run_a
    victim = tmp_path / 'precious'
    victim.mkdir()
    (victim / 'thesis.tex').write_text('years of work')
    options = () if guard else ('default_hooks.run_guard=None', )
    _resume(config, _crafted(a, tmp_path, victim), tmp_path / 'b', *options)
    assert osp.isfile(tmp_path / 'b' / 'iter_3.pth')
    # mmengine alone removes the folder at the first better validation (rc 0)
    assert victim.exists() == guard


def test_resuming_another_runs_checkpoint_keeps_that_runs_best(run_a, tmp_path):
    config, a = run_a
    best = [name for name in os.listdir(a) if name.startswith('best_mIoU')]
    assert len(best) == 1
    checkpoint = torch.load(a / 'iter_1.pth', weights_only=False)
    checkpoint['message_hub']['runtime_info'].update(best_ckpt=str(a / best[0]),
                                                     best_score=float('-inf'))
    accidental = tmp_path / 'a_iter_1.pth'
    torch.save(checkpoint, accidental)
    _resume(config, str(accidental), tmp_path / 'b')
    assert osp.isfile(a / best[0])
