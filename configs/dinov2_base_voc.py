# DINOv2 ViT-B/14 + linear head on PASCAL VOC 2012 at 512 px -- the **Base** twin (no
# projection) of dinov2_softeq_voc.py: the "Base" row of the paper's VOC table
# (mIoU / aIoU / cIoU / eErr = 89.57 / 88.10 / 88.83 / 4.06).
#   python tools/train.py configs/dinov2_base_voc.py
_base_ = [
    './_base_/models/dinov2-b14_linear-head.py',
    './_base_/datasets/voc12_rotated_512x512.py',
    './_base_/schedules/voc_adamw_100e.py',
    'mmseg::_base_/default_runtime.py',
]
# SPEC §5: backbone lr 1e-5, head lr 1e-3 (x100), weight decay 0.01.
optim_wrapper = dict(
    optimizer=dict(lr=1e-5, weight_decay=0.01),
    paramwise_cfg=dict(custom_keys={'decode_head': dict(lr_mult=100.0)}))
