# CIFAR-100 under the paper's protocol: as cifar10_paper_224px.py (80/20 split of the
# training set by seed, best val checkpoint tested on the test set, RandomRotation(10),
# resize to 224 px, total batch 128), with mmpretrain's CIFAR-100 normalisation.
_base_ = ['./cifar10_paper_224px.py']

data_preprocessor = dict(num_classes=100, mean=[129.304, 124.070, 112.434],
                         std=[68.170, 65.392, 70.418])
train_dataloader = dict(dataset=dict(dataset=dict(type='CIFAR100', data_root='data/cifar100')))
val_dataloader = dict(dataset=dict(dataset=dict(type='CIFAR100', data_root='data/cifar100')))
test_dataloader = dict(dataset=dict(type='CIFAR100', data_root='data/cifar100'))
