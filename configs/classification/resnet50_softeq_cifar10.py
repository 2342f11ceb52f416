# ResNet-50 on CIFAR-10, softly SO(2)-equivariant: resnet50_base_cifar10.py plus the
# soft-equivariance keys below.
# Not in the paper's tables.
#   python tools/train.py configs/classification/resnet50_softeq_cifar10.py
_base_ = ['./resnet50_base_cifar10.py']

# The CIFAR ResNet-50 has a 3x3 stem and 3x3 convs only, so every k > 1 kernel is
# projected at softness 0.95 (min_kernel_size=2; not a setting of the paper).
softeq = dict(group='SO2', softness=0.95, cutoff='hard', method='auto', min_kernel_size=2)
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
