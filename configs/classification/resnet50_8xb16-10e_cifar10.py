# ResNet-50 fine-tuned on CIFAR-10; rotated evaluation on its test/val split. The Base twin of
# softeq_resnet50_8xb16-10e_cifar10.py.
_base_ = [
    'mmpretrain::_base_/models/resnet50_cifar.py',
    'mmpretrain::_base_/datasets/cifar10_bs16.py',
    '../_base_/schedules/cls_finetune_sgd_10e.py',
    '../_base_/default_runtime_cls.py',
    '../_base_/evaluation/rotated.py',
]
model = dict(head=dict(num_classes=10))
# the mmpretrain model zoo's CIFAR ResNet-50 trained on CIFAR-10 (32 px)
load_from = 'https://download.openmmlab.com/mmclassification/v0/resnet/resnet50_b16x8_cifar10_20210528-f54bfad9.pth'  # noqa: E501

# Total batch 128 = 8 GPUs x 16 images.
auto_scale_lr = dict(base_batch_size=128)
