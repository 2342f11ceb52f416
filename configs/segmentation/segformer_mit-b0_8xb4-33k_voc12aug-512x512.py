# SegFormer MiT-B0 trained on VOC 2012 train + SBD "aug" (10,582 images) instead of VOC train
# alone (1,464 images, the paper's setting); rotated evaluation on VOC 2012 val. Optional:
# needs SegmentationClassAug/ and ImageSets/Segmentation/aug.txt (mmseg's dataset preparation
# docs). Same recipe as segformer_mit-b0_8xb4-4.6k_voc12-512x512.py, 100 epochs of the larger
# set. Base twin of softeq_segformer_mit-b0_8xb4-33k_voc12aug-512x512.py.
_base_ = [
    'mmseg::_base_/models/segformer_mit-b0.py',
    '../_base_/datasets/voc12aug_512x512.py',
    '../_base_/schedules/voc_adamw_100e.py',
    '../_base_/default_runtime_seg.py',
    '../_base_/evaluation/rotated.py',
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor, decode_head=dict(num_classes=21))
load_from = 'https://download.openmmlab.com/mmsegmentation/v0.5/segformer/segformer_mit-b0_512x512_160k_ade20k/segformer_mit-b0_512x512_160k_ade20k_20210726_101530-8ffa8fda.pth'  # noqa: E501

iters_per_epoch = 331  # ceil(10582 / 32)
max_iters = 100 * iters_per_epoch
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=250),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=False, begin=250, end=max_iters,
         T_max=max_iters - 250),
]
train_cfg = dict(max_iters=max_iters, val_interval=10 * iters_per_epoch)
default_hooks = dict(checkpoint=dict(interval=10 * iters_per_epoch))
