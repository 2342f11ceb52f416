# Paper Tab. 4 / 7 / 10, Base row: ViT-B/16 + linear head on PASCAL VOC 2012 at 224 px under the
# paper's protocol (90/10 split of train by seed, best clean-val mIoU checkpoint,
# test images squashed to 224 x 224 and scored there, 4,100 iterations, eErr pooled over valid
# pixels). mmseg's standard protocol for the same model:
# configs/segmentation/linear_vit-b16_8xb4-4.6k_voc12-224x224.py. Weights: mmpretrain's ViT-B/16
# (ImageNet-21k pre-trained, ImageNet-1k fine-tuned at 384 px; its 24 x 24 position grid resized
# to 14 x 14 when loaded); the paper used timm's 224 px ViT-B/16 (configs/README.md, "Paper
# tables", lists the differences).
_base_ = [
    '../../_base_/models/vit-b16_linear-head.py',
    '../../_base_/datasets/voc12_paper_224x224.py',
    '../../_base_/voc_paper_protocol.py',
]
# ImageNet mean / std for every backbone; no drop path (the recipe has none); one
# window: test images are 224 px
model = dict(data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]),
             backbone=dict(drop_path_rate=0.0),
             test_cfg=dict(_delete_=True, mode='whole'))
# backbone lr 5e-5, head 1e-3 (x20), weight decay 0.07 on every parameter
optim_wrapper = dict(
    optimizer=dict(lr=5e-5, weight_decay=0.07),
    paramwise_cfg=dict(custom_keys={'decode_head': dict(lr_mult=20.0)}))
