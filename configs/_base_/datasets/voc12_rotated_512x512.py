# PASCAL VOC 2012 semantic segmentation (21 classes, ignore 255), 512 x 512 crops, with the
# paper's training augmentation and mmsofteq's rotated evaluation.
#
# Data: data/VOCdevkit/VOC2012/{JPEGImages,SegmentationClass,ImageSets/Segmentation/*.txt}
# (train: 1,464 images; val: 1,449), as mmseg's pascal_voc12.py.
# Train augmentation (SPEC §5): scale 0.5-2, crop, flip, rotation U(-10°, 10°) with p=0.5,
# colour jitter. Evaluation: every val image once as is and once rotated by its seeded angle
# θ ~ U(-30°, 30°) -> mIoU / aIoU / cIoU / eErr (x100), see docs/evaluation.md.
_base_ = ['mmseg::_base_/datasets/pascal_voc12.py']

custom_imports = dict(imports=['mmsofteq'], allow_failed_imports=False)

crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(2048, 512), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomRotate', prob=0.5, degree=10, pad_val=0, seg_pad_val=255),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    # annotations after Resize: labels stay at the original size, as mmseg evaluates
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]

# Total batch 32 = 8 GPUs x 4 images (with N GPUs use batch_size=32 // N).
train_dataloader = dict(batch_size=4, num_workers=4, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, num_workers=4, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

# Rotated evaluation: a fixed, seeded angle per val image (identical on any number of GPUs).
rotation_angles = dict(kind='uniform', low=-30.0, high=30.0, seed=0)
val_cfg = dict(type='mmsofteq.RotatedValLoop', angles=rotation_angles)
test_cfg = dict(type='mmsofteq.RotatedTestLoop', angles=rotation_angles)
val_evaluator = dict(_delete_=True, type='mmsofteq.RotatedIoUMetric', ignore_index=255)
test_evaluator = val_evaluator
