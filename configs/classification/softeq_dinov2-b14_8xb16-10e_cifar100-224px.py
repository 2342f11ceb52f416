# Soft SO(2)-equivariant DINOv2 ViT-B/14 on CIFAR-100 (softeq recipe: _base_/softeq/dinov2_so2.py).
_base_ = ['./dinov2-b14_8xb16-10e_cifar100-224px.py', '../_base_/softeq/dinov2_so2.py']
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model,
             softeq=_base_.softeq)
