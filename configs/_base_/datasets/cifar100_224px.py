# CIFAR-100 upsampled to 224 x 224 (bicubic) for ImageNet-pre-trained ViT / DINOv2 backbones;
# everything else as mmpretrain's cifar100_bs16.py (total batch 128 = 8 GPUs x 16; the dataset
# class downloads the python version into data/cifar100 when it is missing).
_base_ = ['mmpretrain::_base_/datasets/cifar100_bs16.py']

train_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='Resize', scale=224, interpolation='bicubic'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='Resize', scale=224, interpolation='bicubic'),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
