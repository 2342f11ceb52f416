# Semantic segmentation with mmpretrain's ViT-B/16 and a linear head on the patch-token grid
# (the paper's ViT setting: 224 px, 14 x 14 tokens, one 1 x 1 conv from 768 channels to the
# classes). The backbone comes from mmpretrain (type='mmpretrain.VisionTransformer') inside
# mmseg's EncoderDecoder; weights: ImageNet-21k pre-trained, ImageNet-1k fine-tuned
# (mmpretrain model zoo, "vit-base-p16_in21k-pre_3rdparty_in1k-384px"; its 24 x 24 position
# grid is resized to 14 x 14 when loaded).
norm_cfg = dict(type='SyncBN', requires_grad=True)
vit_checkpoint = 'https://download.openmmlab.com/mmclassification/v0/vit/finetune/vit-base-p16_in21k-pre-3rdparty_ft-64xb64_in1k-384_20210928-98e8652b.pth'  # noqa: E501
data_preprocessor = dict(
    type='SegDataPreProcessor',
    # the normalisation this checkpoint was trained with (mmpretrain's 384px config)
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(224, 224))
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='mmpretrain.VisionTransformer',
        arch='base',
        img_size=224,
        patch_size=16,
        out_indices=-1,
        out_type='featmap',  # (B, 768, 14, 14) patch tokens, no cls token
        final_norm=True,
        drop_rate=0.0,
        drop_path_rate=0.1,
        interpolate_mode='bicubic',
        init_cfg=dict(type='Pretrained', checkpoint=vit_checkpoint, prefix='backbone.')),
    decode_head=dict(
        # the linear head: no conv before the classifier, no concatenated input
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
    # windows of the training size keep the 14 x 14 token grid the projection acts on
    test_cfg=dict(mode='slide', crop_size=(224, 224), stride=(149, 149)))
