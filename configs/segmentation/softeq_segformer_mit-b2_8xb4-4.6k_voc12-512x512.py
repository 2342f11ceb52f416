# Soft SO(2)-equivariant SegFormer MiT-B2 on PASCAL VOC 2012 (softeq recipe of SegFormer).
_base_ = ['./segformer_mit-b2_8xb4-4.6k_voc12-512x512.py', '../_base_/softeq/segformer_so2.py']
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=_base_.softeq)
