# PASCAL VOC 2012 under the paper's protocol, 512 x 512: mmseg's standard
# protocol is voc12_512x512.py (train on all of train, test on val at the original size).
#
# * train on 90 % of VOC train (1,317 images), validate on the other 10 % (147 images) to
#   select the best checkpoint, split by `seed` (the paper splits by the run seed:
#   projects/softeq_lab/softeq_lab/sweeps/multi_seed.py sets randomness.seed and both split seeds); then
#   test the best checkpoint on VOC val;
# * test images and labels squashed to 512 x 512 (labels nearest) and scored at that size
#   (mmsofteq.ScoreAtInputSize), not at the original size as mmseg does;
# * augmentation: scale U(0.5, 2) of the image itself (VOC images are at most 500 px: a
#   keep-ratio resize to 500 x 500 times the ratio), crop, flip, rotation U(-10°, 10°) with
#   p=0.5, colour jitter (0.3, 0.3, 0.3, 0.1) with p=0.5 (mmpretrain's ColorJitter with a hue
#   step that works under numpy 2: mmsofteq.ColorJitter; as
#   torchvision's); the batch is padded to the crop size by the data preprocessor;
# * total batch 32 = 8 GPUs x 4 images, epoch by epoch (mmengine's DefaultSampler, not
#   mmseg's InfiniteSampler) with the last incomplete batch dropped: 41 iterations per epoch
#   (on 8 GPUs: 165 images per rank, 41 batches of 4).
_base_ = ['mmseg::_base_/datasets/pascal_voc12.py']

crop_size = (512, 512)
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
    dict(type='mmsofteq.ScoreAtInputSize'),  # score at 512 x 512
    dict(type='PackSegInputs'),
]
voc_train = dict(
    type='PascalVOCDataset',
    data_root='data/VOCdevkit/VOC2012',
    data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
    ann_file='ImageSets/Segmentation/train.txt')

train_dataloader = dict(
    batch_size=4, num_workers=4, drop_last=True,
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(_delete_=True, type='mmsofteq.SeededSplitDataset', fraction=0.9,
                 part='first', seed=0,
                 dataset=dict(**voc_train, pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=1, num_workers=4,
    dataset=dict(_delete_=True, type='mmsofteq.SeededSplitDataset', fraction=0.9,
                 part='rest', seed=0, dataset=dict(**voc_train, pipeline=test_pipeline)))
test_dataloader = dict(batch_size=1, num_workers=4, dataset=dict(pipeline=test_pipeline))
