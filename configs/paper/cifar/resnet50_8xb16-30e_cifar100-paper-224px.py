# Paper Tab. 1 / 10, Base row: resnet50 fine-tuned on CIFAR-100 under the paper's protocol: the
# CIFAR-10 config resnet50_8xb16-30e_cifar10-paper-224px.py (same recipe) on CIFAR-100's data
# with a 100-class head.
_base_ = ['./resnet50_8xb16-30e_cifar10-paper-224px.py']
model = dict(head=dict(num_classes=100))
data_preprocessor = dict(num_classes=100)
cifar100 = dict(type='CIFAR100', data_root='data/cifar100')
train_dataloader = val_dataloader = dict(dataset=dict(dataset=cifar100))
test_dataloader = dict(dataset=cifar100)
