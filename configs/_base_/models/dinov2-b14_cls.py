# Image classification with DINOv2 ViT-B/14 (mmpretrain) and a linear head on the cls token.
# mmpretrain ships DINOv2 headless; the head is trained by the configs. img_size=224 gives a
# 16 x 16 patch grid (the checkpoint's 37 x 37 position grid is resized when loaded).
dinov2_checkpoint = 'https://download.openmmlab.com/mmpretrain/v1.0/dinov2/vit-base-p14_dinov2-pre_3rdparty_20230426-ba246503.pth'  # noqa: E501
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VisionTransformer',
        arch='base',
        img_size=224,
        patch_size=14,
        layer_scale_init_value=1e-5,
        out_type='cls_token',
        final_norm=True,
        drop_path_rate=0.1,
        interpolate_mode='bicubic',
        init_cfg=dict(type='Pretrained', checkpoint=dinov2_checkpoint, prefix='backbone.')),
    neck=None,
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=768,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')))
