# Paper Tab. 1 / 10, Base row: resnet50 fine-tuned on CIFAR-10 under the paper's protocol
# (80/20 split of the training set by seed, best val checkpoint tested on the test
# set, RandomRotation(10), 224 px, 30 epochs, AdamW lr 1e-4, no weight decay, per-epoch cosine).
# mmsofteq's own recipe for the same model: configs/classification/.
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    '../../_base_/datasets/cifar10_paper_224px.py',
    '../../_base_/schedules/cls_paper_cifar_adamw_30e.py',
    '../../_base_/default_runtime_cls_best.py',  # keeps the best val checkpoint
    '../../_base_/evaluation/rotated.py',
]
# The ImageNet ResNet-50 at 224 px (the paper's CIFAR ResNet-50 is the ImageNet
# one), backbone from mmpretrain's ImageNet-1k checkpoint, a new 10-class head.
resnet_checkpoint = 'https://download.openmmlab.com/mmclassification/v0/resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth'  # noqa: E501
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=resnet_checkpoint,
                                prefix='backbone.')),
    head=dict(num_classes=10))
data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=False)
