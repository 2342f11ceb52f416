# DINOv2 ViT-B/14 + linear head on PASCAL VOC 2012 at 512 px; rotated evaluation on VOC val.
# The Base twin of softeq_linear_dinov2-b14_8xb4-4.6k_voc12-512x512.py.
_base_ = [
    '../_base_/models/dinov2-b14_linear-head.py',
    '../_base_/datasets/voc12_512x512.py',
    '../_base_/schedules/voc_adamw_100e.py',
    '../_base_/default_runtime_seg.py',
    '../_base_/evaluation/rotated.py',
]
# backbone lr 1e-5, head lr 1e-3 (x100), weight decay 0.01.
optim_wrapper = dict(
    optimizer=dict(lr=1e-5, weight_decay=0.01),
    paramwise_cfg=dict(custom_keys={'decode_head': dict(lr_mult=100.0)}))
