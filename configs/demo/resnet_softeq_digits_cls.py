# The embedded classification demo (mmpretrain path): the CIFAR ResNet config
# configs/classification/softeq_resnet50_8xb16-10e_cifar10.py (softly SO(2)-equivariant 3x3 kernels,
# softness 0.95, rotated evaluation Acc / aAcc / cAcc / iErr) at depth 18, trained from
# scratch on the offline digits set (data/demo_digits_cls: 10 classes, 32 x 32, real
# handwritten digits from scikit-learn, see docs/demo_data.md).
#   python -m softeq_lab.demo.run_demo --task cls
#   python tools/train.py configs/demo/resnet_softeq_digits_cls.py   # (data must exist)
_base_ = ['../classification/softeq_resnet50_8xb16-10e_cifar10.py']

data_root = 'data/demo_digits_cls'
demo_cls_metainfo = dict(classes=('zero', 'one', 'two', 'three', 'four', 'five', 'six',
                                  'seven', 'eight', 'nine'))
# No flip: a mirrored digit is another symbol.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(_delete_=True, type='CustomDataset', data_root=data_root,
                 ann_file='meta/train.txt', data_prefix='train', metainfo=demo_cls_metainfo,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(_delete_=True, type='CustomDataset', data_root=data_root,
                 ann_file='meta/val.txt', data_prefix='val', metainfo=demo_cls_metainfo,
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
# `--tta` (tools/test.py, and mmpretrain's own): the mean class probability over the four
# quarter turns, computed inside the model, so the TTA pipeline is the test one.
tta_model = dict(type='mmsofteq.OrbitAveragedModel', group='C4', combine='mean_probs')
tta_pipeline = test_pipeline
# LoadImageFromFile gives BGR
data_preprocessor = dict(num_classes=10, to_rgb=True)

# ResNet-18 instead of 50, so that a few epochs fit in minutes on a CPU.
model = dict(model=dict(backbone=dict(depth=18), head=dict(num_classes=10, in_channels=512)))

# Schedule: from scratch (no download), 3 epochs of 1,347 images.
load_from = None
optim_wrapper = dict(optimizer=dict(lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=1, end=3, T_max=2,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=3, val_interval=3)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=3, max_keep_ckpts=1))
