# The embedded demo: configs/segformer_softeq_voc.py (SegFormer MiT-B0, softly SO(2)-
# equivariant, softness 0.95) trained from scratch on the offline digits set (data/demo_voc,
# 11 classes, 64 x 64, real handwritten digits from scikit-learn, see docs/demo_data.md).
# Only data root / classes / image size / schedule change; model, softeq keys, augmentation
# and the rotated evaluation (mIoU / aIoU / cIoU / eErr) are the VOC config's.
#   python tools/run_demo.py            # makes the data, trains, evaluates, draws a PNG
#   python tools/train.py configs/demo/segformer_softeq_demo.py   # (data must exist)
_base_ = ['../segformer_softeq_voc.py']

data_root = 'data/demo_voc'
demo_metainfo = dict(
    classes=('background', 'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven',
             'eight', 'nine'),
    palette=[[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128], [128, 0, 128],
             [0, 128, 128], [128, 128, 128], [64, 0, 0], [192, 0, 0], [64, 128, 0]])

crop_size = (64, 64)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(256, 64), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomRotate', prob=0.5, degree=10, pad_val=0, seg_pad_val=255),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 64), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
# BaseSegDataset with VOC's folders and suffixes: PascalVOCDataset only accepts VOC's own
# class names (docs/demo_data.md).
demo_dataset = dict(
    _delete_=True,
    type='BaseSegDataset',
    data_root=data_root,
    metainfo=demo_metainfo,
    img_suffix='.jpg',
    seg_map_suffix='.png',
    reduce_zero_label=False,
    data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'))
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(**demo_dataset, ann_file='ImageSets/Segmentation/train.txt',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(**demo_dataset, ann_file='ImageSets/Segmentation/val.txt',
                 pipeline=test_pipeline))
test_dataloader = val_dataloader

data_preprocessor = dict(size=crop_size)
model = dict(model=dict(data_preprocessor=data_preprocessor, decode_head=dict(num_classes=11)))

# Schedule: from scratch (no download); validation once, at the end. 3,000 iterations of
# batch 8 (80 epochs of the 300 train images): tools/run_demo.py (1 torch thread) takes ~6 min
# on 2 CPU cores (docs/results.md, "Demo"). Shorter schedules measured on the same data:
# 600 iterations mIoU 10 (digits barely told apart), 2,000 iterations mIoU 16.
load_from = None
max_iters = 3000
warmup_iters = 150
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=False, begin=warmup_iters,
         end=max_iters, T_max=max_iters - warmup_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=100),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
env_cfg = dict(cudnn_benchmark=False)
randomness = dict(seed=0)
