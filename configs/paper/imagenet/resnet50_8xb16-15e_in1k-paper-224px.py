# Paper Tab. 2, Base row: resnet50 fine-tuned on ImageNet-1k with the paper's timm recipe
# (15 epochs, AdamW lr 1e-5, mixup 0.8 / cutmix 1.0,
# RandAugment, random erasing 0.25, label smoothing 0.1, drop path 0.1, EMA, bf16, 512 images per
# update). mmsofteq's own recipe for the same model: configs/classification/.
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    '../../_base_/datasets/imagenet_paper_224px.py',
    '../../_base_/schedules/cls_paper_in1k_timm_15e.py',
    '../../_base_/default_runtime_cls.py',
    '../../_base_/evaluation/rotated.py',
]
# mmpretrain's ResNet-50 trained on ImageNet-1k, head included (the paper: timm's ResNet-50).
load_from = 'https://download.openmmlab.com/mmclassification/v0/resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth'  # noqa: E501
model = dict(
    # drop path 0.1: their ResNet-50 is a timm model, which receives --drop-path (only the
    # Hugging Face ViT / DINOv2 never got it)
    backbone=dict(drop_path_rate=0.1),
    head=dict(loss=dict(_delete_=True, type='LabelSmoothLoss', label_smooth_val=0.1,
                        mode='original')),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))
