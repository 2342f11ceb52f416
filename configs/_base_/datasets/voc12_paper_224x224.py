# PASCAL VOC 2012 under the paper's protocol at 224 x 224 (the ViT-B/16 setting: a 14 x 14
# patch grid); everything else as voc12_paper_512x512.py.
_base_ = ['./voc12_paper_512x512.py']

crop_size = (224, 224)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(500, 500), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomRotate', prob=0.5, degree=10, pad_val=0, seg_pad_val=255),
    dict(type='RandomApply', prob=0.5, transforms=[
        dict(type='mmsofteq.ColorJitter', brightness=0.3, contrast=0.3, saturation=0.3,
             hue=0.1)]),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),  # squash, labels nearest
    dict(type='mmsofteq.ScoreAtInputSize'),  # score at 224 x 224
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(dataset=dict(pipeline=test_pipeline)))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
