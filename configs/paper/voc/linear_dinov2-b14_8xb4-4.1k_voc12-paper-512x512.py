# Paper Tab. 4 / 10, Base row: DINOv2 ViT-B/14 + linear head on PASCAL VOC 2012 at 512 px under
# the paper's protocol (see linear_vit-b16_8xb4-4.1k_voc12-paper-224x224.py).
# mmseg's standard protocol for the same model:
# configs/segmentation/linear_dinov2-b14_8xb4-4.6k_voc12-512x512.py. Token grid: 512 px is
# padded to 518 (37 x 37 tokens, the checkpoint's own position grid); the paper's HF model
# cropped to 36 x 36 tokens and interpolated the 37 x 37 grid.
_base_ = [
    '../../_base_/models/dinov2-b14_linear-head.py',
    '../../_base_/datasets/voc12_paper_512x512.py',
    '../../_base_/voc_paper_protocol.py',
]
# ImageNet mean / std; no drop path (the recipe has none); one 512 px window
model = dict(data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]),
             backbone=dict(drop_path_rate=0.0),
             test_cfg=dict(_delete_=True, mode='whole'))
# backbone lr 1e-5, head 1e-3 (x100), weight decay 0.01 on every parameter; cosine to 1e-6
optim_wrapper = dict(
    optimizer=dict(lr=1e-5, weight_decay=0.01),
    paramwise_cfg=dict(custom_keys={'decode_head': dict(lr_mult=100.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=250),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=False, begin=250, end=4100,
         T_max=4100 - 250),
]
