# Soft SO(2)-equivariant ViT-B/16 + linear head on PASCAL VOC 2012 (softeq recipe of
# ViT: _base_/softeq/vit_so2.py).
_base_ = ['./linear_vit-b16_8xb4-4.6k_voc12-224x224.py', '../_base_/softeq/vit_so2.py']
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=_base_.softeq)
