# ViT-B/16 + linear head on PASCAL VOC 2012 at 224 px -- the **Base** twin (no projection) of
# vit_softeq_voc.py: the "Base" row of the paper's VOC table
# (mIoU / aIoU / cIoU / eErr = 73.40 / 70.09 / 71.73 / 12.31).
#   python tools/train.py configs/vit_base_voc.py
_base_ = [
    './_base_/models/vit-b16_linear-head.py',
    './_base_/datasets/voc12_rotated_224x224.py',
    './_base_/schedules/voc_adamw_100e.py',
    'mmseg::_base_/default_runtime.py',
]
# SPEC §5: backbone lr 5e-5, head lr 1e-3 (x20), weight decay 0.07.
optim_wrapper = dict(
    optimizer=dict(lr=5e-5, weight_decay=0.07),
    paramwise_cfg=dict(custom_keys={'decode_head': dict(lr_mult=20.0)}))
