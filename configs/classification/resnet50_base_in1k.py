# ResNet-50 on ImageNet-1k -- the **Base** twin (no projection) of resnet50_softeq_in1k.py:
# same data, schedule and rotated evaluation.
# Paper (Base row), Acc / aAcc / cAcc / iErr: 77.91 / 75.12 / 76.48 / 0.24.
#   python tools/train.py configs/classification/resnet50_base_in1k.py
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    '../_base_/datasets/imagenet_rotated.py',
    '../_base_/schedules/cls_finetune_sgd_10e.py',
    '../_base_/default_runtime_cls.py',
]
# the mmpretrain model zoo's ResNet-50 trained on ImageNet-1k (76.55 top-1)
load_from = 'https://download.openmmlab.com/mmclassification/v0/resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth'  # noqa: E501
