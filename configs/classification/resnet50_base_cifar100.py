# ResNet-50 on CIFAR-100 -- the **Base** twin (no projection) of resnet50_softeq_cifar100.py:
# same data, schedule and rotated evaluation.
# Not in the paper's tables.
#   python tools/train.py configs/classification/resnet50_base_cifar100.py
_base_ = [
    'mmpretrain::_base_/models/resnet50_cifar.py',
    '../_base_/datasets/cifar100_rotated.py',
    '../_base_/schedules/cls_finetune_sgd_10e.py',
    '../_base_/default_runtime_cls.py',
]
model = dict(head=dict(num_classes=100))
# the mmpretrain model zoo's CIFAR ResNet-50 trained on CIFAR-100 (32 px)
load_from = 'https://download.openmmlab.com/mmclassification/v0/resnet/resnet50_b16x8_cifar100_20210528-67b58a1b.pth'  # noqa: E501
