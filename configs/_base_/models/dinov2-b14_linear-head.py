# Semantic segmentation with DINOv2 ViT-B/14 (mmpretrain) and a linear head on the patch-token
# grid (the paper's DINOv2 setting: 512 px crops). img_size=518 keeps the checkpoint's 37 x 37
# position grid (the one the projection acts on); a 512 px input is padded to 518 at its
# bottom/right corner by the patch embedding (mmcv's PatchEmbed, padding='corner'), giving
# exactly 37 x 37 tokens. Weights: DINOv2 LVD-142M pre-training (mmpretrain model zoo,
# "vit-base-p14_dinov2-pre_3rdparty").
norm_cfg = dict(type='SyncBN', requires_grad=True)
dinov2_checkpoint = 'https://download.openmmlab.com/mmpretrain/v1.0/dinov2/vit-base-p14_dinov2-pre_3rdparty_20230426-ba246503.pth'  # noqa: E501
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(512, 512))
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='mmpretrain.VisionTransformer',
        arch='base',
        img_size=518,
        patch_size=14,
        layer_scale_init_value=1e-5,
        out_indices=-1,
        out_type='featmap',  # (B, 768, 37, 37) patch tokens, no cls token
        final_norm=True,
        drop_rate=0.0,
        drop_path_rate=0.1,
        interpolate_mode='bicubic',
        init_cfg=dict(type='Pretrained', checkpoint=dinov2_checkpoint, prefix='backbone.')),
    decode_head=dict(
        type='FCNHead',
        in_channels=768,
        channels=768,
        num_convs=0,
        concat_input=False,
        in_index=-1,
        dropout_ratio=0.0,
        num_classes=21,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='slide', crop_size=(512, 512), stride=(341, 341)))
