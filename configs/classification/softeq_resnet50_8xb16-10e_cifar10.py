# Soft SO(2)-equivariant ResNet-50 on CIFAR-10 (softeq recipe: _base_/softeq/resnet_so2.py).
# The CIFAR ResNet-50 has a 3x3 stem and 3x3 convs only: every k > 1 kernel is projected.
_base_ = ['./resnet50_8xb16-10e_cifar10.py', '../_base_/softeq/resnet_so2.py']
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model,
             softeq=dict(_base_.softeq, min_kernel_size=2))
