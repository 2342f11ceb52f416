# DINOv2 ViT-B/14 on CIFAR-100 -- the **Base** twin (no projection) of dinov2-b14_softeq_cifar100.py:
# same data, schedule and rotated evaluation.
# Not in the paper's tables.
#   python tools/train.py configs/classification/dinov2-b14_base_cifar100.py
_base_ = [
    '../_base_/models/dinov2-b14_cls.py',
    '../_base_/datasets/cifar100_rotated_224.py',
    '../_base_/schedules/cls_finetune_adamw_10e.py',
    '../_base_/default_runtime_cls.py',
]
model = dict(head=dict(num_classes=100))
# DINOv2 was trained with ImageNet's normalisation
data_preprocessor = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
# backbone lr 1e-5 (as the paper's DINOv2 on VOC), the new head 1e-3
optim_wrapper = dict(
    optimizer=dict(lr=1e-5),
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=100.0)}))
