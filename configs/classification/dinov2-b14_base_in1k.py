# DINOv2 ViT-B/14 on ImageNet-1k -- the **Base** twin (no projection) of dinov2-b14_softeq_in1k.py:
# same data, schedule and rotated evaluation.
# Paper (Base row), Acc / aAcc / cAcc / iErr: 84.27 / 82.82 / 83.52 / 0.13.
#   python tools/train.py configs/classification/dinov2-b14_base_in1k.py
_base_ = [
    '../_base_/models/dinov2-b14_cls.py',
    '../_base_/datasets/imagenet_rotated.py',
    '../_base_/schedules/cls_finetune_adamw_10e.py',
    '../_base_/default_runtime_cls.py',
]
model = dict(head=dict(num_classes=1000))
# backbone lr 1e-5 (as the paper's DINOv2 on VOC), the new head 1e-3
optim_wrapper = dict(
    optimizer=dict(lr=1e-5),
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=100.0)}))
