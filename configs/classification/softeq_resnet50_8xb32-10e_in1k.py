# Soft SO(2)-equivariant ResNet-50 on ImageNet-1k (softeq recipe: _base_/softeq/resnet_so2.py).
_base_ = ['./resnet50_8xb32-10e_in1k.py', '../_base_/softeq/resnet_so2.py']
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model,
             softeq=_base_.softeq)
