# Soft SO(2)-equivariant SegFormer MiT-B0 on VOC 2012 train + SBD aug (softeq recipe of
# SegFormer).
_base_ = ['./segformer_mit-b0_8xb4-33k_voc12aug-512x512.py', '../_base_/softeq/segformer_so2.py']
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=_base_.softeq)
