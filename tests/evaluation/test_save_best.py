"""``CheckpointHook(save_best=...)`` on the clean and the rotated metric keys, through the real
Runner: an existing config's ``save_best='mIoU'`` / ``'accuracy/top1'`` keeps working with the
rotated loops, and the rotated keys (``aIoU``, ``rotated_accuracy/top1``) can be chosen too."""
import glob
import os.path as osp
import uuid

import pytest
from fixtures import make_tiny_voc, tiny_segformer_cfg
from fixtures.rotated_eval import tiny_resnet_cfg, write_image_folder
from mmengine.config import Config
from mmengine.runner import Runner

import mmsofteq  # noqa: F401  (registers the rotated loops)

pytestmark = pytest.mark.slow  # real Runner runs


def _best_files(work_dir, key):
    return glob.glob(osp.join(work_dir, f"best_{key.replace('/', '_')}_iter_*.pth"))


@pytest.mark.parametrize('keys', [['mIoU', 'aIoU', 'eErr']])
def test_segmentation_save_best_on_clean_and_rotated_keys(tmp_path, keys):
    data_root = make_tiny_voc(tmp_path / 'voc', num_images=4, size=32, num_classes=4)
    cfg = tiny_segformer_cfg(data_root, tmp_path / 'work', num_classes=4, max_iters=2,
                             val_interval=1, checkpoint_interval=1, norm_type='BN')
    cfg.val_cfg = dict(type='mmsofteq.RotatedValLoop')
    cfg.default_hooks.checkpoint.save_best = keys
    cfg.default_hooks.checkpoint.rule = ['greater', 'greater', 'less']
    Runner.from_cfg(cfg).train()
    for key in keys:
        assert len(_best_files(str(tmp_path / 'work'), key)) == 1, key


def test_classification_save_best_on_accuracy_top1_and_rotated_accuracy(tmp_path):
    root = write_image_folder(str(tmp_path / 'images'), 3, 4, sizes=[(16, 16)], seed=0)
    loader = dict(batch_size=2, num_workers=0,
                  dataset=dict(type='CustomDataset', data_root=root, data_prefix='',
                               pipeline=[dict(type='LoadImageFromFile'),
                                         dict(type='PackInputs')]))
    keys = ['accuracy/top1', 'rotated_accuracy/top1', 'iErr']
    cfg = Config(dict(
        default_scope='mmpretrain', model=tiny_resnet_cfg(3),
        work_dir=str(tmp_path / 'work'), experiment_name=f'save_best_{uuid.uuid4().hex[:6]}',
        train_dataloader=dict(loader, sampler=dict(type='InfiniteSampler', shuffle=True)),
        val_dataloader=dict(loader, sampler=dict(type='DefaultSampler', shuffle=False)),
        val_evaluator=dict(type='Accuracy', topk=(1, )),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=2, val_interval=1),
        val_cfg=dict(type='mmsofteq.RotatedValLoop'),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1,
                                           save_best=keys,
                                           rule=['greater', 'greater', 'less']),
                           logger=dict(type='LoggerHook', interval=1)),
        log_processor=dict(by_epoch=False), log_level='WARNING',
        env_cfg=dict(dist_cfg=dict(backend='gloo'))))
    Runner.from_cfg(cfg).train()
    for key in keys:
        assert len(_best_files(str(tmp_path / 'work'), key)) == 1, key
