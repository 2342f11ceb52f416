# Soft SO(2)-equivariant DINOv2 ViT-B/14 + linear head on PASCAL VOC 2012 (softeq recipe of
# DINOv2: _base_/softeq/dinov2_so2.py).
_base_ = ['./linear_dinov2-b14_8xb4-4.6k_voc12-512x512.py', '../_base_/softeq/dinov2_so2.py']
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=_base_.softeq)
