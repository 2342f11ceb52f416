# The embedded demo, Base twin: SegFormer (the MiT-B0 recipe of configs/segformer_base_voc.py
# with one block per stage) fine-tuned on the offline digits set (data/demo_voc as softeq_lab.demo.run_demo
# writes it: 11 classes, 33 x 33 canvases with one real handwritten digit from scikit-learn
# filling 45-65 % of the side, labelled where its ink exceeds 0.2, no ignore band, 2,000 train /
# 1,000 val; docs/demo_data.md), from
# the weights of a short pretraining on the same upright images (segformer_pretrain_demo.py). Its soft-equivariant twin is segformer_softeq_demo.py: same
# start, data, schedule and rotated evaluation (mIoU / aIoU / cIoU / eErr).
#   python -m softeq_lab.demo.run_demo     # make demo: data, pretraining, both fine-tunings, table
_base_ = ['../segformer_base_voc.py']

data_root = 'data/demo_voc'
demo_metainfo = dict(
    classes=('background', 'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven',
             'eight', 'nine'),
    palette=[[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128], [128, 0, 128],
             [0, 128, 128], [128, 128, 128], [64, 0, 0], [192, 0, 0], [64, 128, 0]])

# 33 px: the patch embeddings of all four stages (7x7/4, then 3x3/2) sample on grids that are
# symmetric about the image centre (9, 5, 3, 2 tokens), so a rotation about the centre maps
# tokens onto tokens; at 32 px the stride-4 grid sits 1.5 px off centre and that offset, not
# the kernels, dominates eErr (docs/math.md §4; projects/softeq_lab/softeq_lab/paper/strict_invariance.py
# --grid-only lists the off-centre layers: here only the spatial-reduction convs).
crop_size = (33, 33)
# Upright images only: no rotation (nor flip: a mirrored digit is another symbol), so what
# the rotated evaluation measures is what the model learnt about rotations by itself.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
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
# num_workers=0: loading a 32 px image costs far less than a worker process on 2 cores.
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(**demo_dataset, ann_file='ImageSets/Segmentation/train.txt',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(**demo_dataset, ann_file='ImageSets/Segmentation/val.txt',
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
# `--tta` (tools/test.py, and mmseg's own): rotation test-time augmentation, the mean of the
# class probabilities over the four quarter turns (exact on the square images). The turns act
# on the normalised batch inside the model, so the TTA pipeline is the test one.
tta_model = dict(type='mmsofteq.OrbitAveragedModel', group='C4', combine='mean_probs')
tta_pipeline = test_pipeline

data_preprocessor = dict(size=crop_size)
# MiT-B0 widths with one transformer block per stage (B0 has two) and a 128-channel head
# (B0's 256-channel fusion conv dominated the step on small inputs). Background is ~84 % of
# the pixels: at weight 1 the model learns "digit here" and then sits for hundreds of steps on
# a uniform guess of which digit; weight 0.1 on background gets it past that within the
# pretraining (docs/demo_data.md). mmseg 1.2.2's class_weight fails on ignored (255) labels,
# hence no ignore band in the demo data.
model = dict(data_preprocessor=data_preprocessor, backbone=dict(num_layers=[1, 1, 1, 1]),
             decode_head=dict(channels=128, num_classes=11,
                              loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                                               loss_weight=1.0,
                                               class_weight=[0.1] + [1.0] * 10)))

# Fine-tuning: 200 iterations of batch 16 from the pretraining checkpoint (softeq_lab.demo.run_demo sets
# load_from to it), cosine from 5e-4, the same lr for backbone and head.
load_from = None
max_iters = 200
optim_wrapper = dict(
    optimizer=dict(lr=5e-4),
    paramwise_cfg=dict(custom_keys={'decode_head': dict(lr_mult=1.0)}))
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=False, begin=0, end=max_iters,
         T_max=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=100),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
env_cfg = dict(cudnn_benchmark=False)
randomness = dict(seed=0)
