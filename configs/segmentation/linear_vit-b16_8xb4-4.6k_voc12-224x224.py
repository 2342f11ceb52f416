# ViT-B/16 + linear head on PASCAL VOC 2012 at 224 px; rotated evaluation on VOC val.
# The Base twin of softeq_linear_vit-b16_8xb4-4.6k_voc12-224x224.py.
_base_ = [
    '../_base_/models/vit-b16_linear-head.py',
    '../_base_/datasets/voc12_224x224.py',
    '../_base_/schedules/voc_adamw_100e.py',
    '../_base_/default_runtime_seg.py',
    '../_base_/evaluation/rotated.py',
]
# backbone lr 5e-5, head lr 1e-3 (x20), weight decay 0.07.
optim_wrapper = dict(
    optimizer=dict(lr=5e-5, weight_decay=0.07),
    paramwise_cfg=dict(custom_keys={'decode_head': dict(lr_mult=20.0)}))
