# Soft SO(2)-equivariant ViT-B/16 on CIFAR-100 (softeq recipe: _base_/softeq/vit_so2.py).
_base_ = ['./vit-b16_8xb16-10e_cifar100-224px.py', '../_base_/softeq/vit_so2.py']
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model,
             softeq=_base_.softeq)
