# CIFAR-10 under the paper's protocol; mmsofteq's standard one is
# cifar10_224px.py (train on all 50,000 training images, evaluate on the test set).
#
# * train on 80 % of the training set (40,000 images), validate on the other 20 % to select
#   the best checkpoint (split by `seed`: projects/softeq_lab/softeq_lab/sweeps/multi_seed.py sets it to the
#   run seed, as the paper does), then test the best checkpoint on the 10,000 test images;
# * augmentation: torchvision's RandomRotation(10) (uniform in [-10°, 10°], nearest, fill 0;
#   through mmpretrain's torchvision wrapper), then resize 32 -> 224 px (bilinear,
#   torchvision's default); no crop or flip;
# * total batch 128 = 8 GPUs x 16 images.
_base_ = ['mmpretrain::_base_/datasets/cifar10_bs16.py']

train_pipeline = [
    dict(type='NumpyToPIL', to_rgb=False),  # CIFAR images are loaded as RGB
    dict(type='torchvision/RandomRotation', degrees=10),
    dict(type='PILToNumpy', to_bgr=False),
    dict(type='Resize', scale=224, interpolation='bilinear'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='Resize', scale=224, interpolation='bilinear'),
    dict(type='PackInputs'),
]
cifar_train = dict(type='CIFAR10', data_root='data/cifar10', split='train')

train_dataloader = dict(
    batch_size=16,
    dataset=dict(_delete_=True, type='mmsofteq.SeededSplitDataset', fraction=0.8,
                 part='first', seed=0, dataset=dict(**cifar_train, pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=16,
    dataset=dict(_delete_=True, type='mmsofteq.SeededSplitDataset', fraction=0.8,
                 part='rest', seed=0, dataset=dict(**cifar_train, pipeline=test_pipeline)))
test_dataloader = dict(
    batch_size=16, num_workers=2,
    dataset=dict(type='CIFAR10', data_root='data/cifar10', split='test',
                 pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
test_evaluator = dict(type='Accuracy', topk=(1, ))
