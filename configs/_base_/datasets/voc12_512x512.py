# PASCAL VOC 2012 semantic segmentation (21 classes, ignore 255), 512 x 512 crops, with the
# paper's training augmentation; mmseg's evaluation protocol (val images resized to short
# side 512 keeping the aspect ratio, scored at their original size with IoUMetric).
#
# Data: data/VOCdevkit/VOC2012/{JPEGImages,SegmentationClass,ImageSets/Segmentation/*.txt}
# (train: 1,464 images; val: 1,449), as mmseg's pascal_voc12.py.
# Train augmentation: scale 0.5-2, crop, flip, rotation U(-10°, 10°) with
# p=0.5, colour jitter.
_base_ = ['mmseg::_base_/datasets/pascal_voc12.py']

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
