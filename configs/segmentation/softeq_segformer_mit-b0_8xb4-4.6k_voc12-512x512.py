# Soft SO(2)-equivariant SegFormer MiT-B0 on PASCAL VOC 2012: the Base twin plus the softeq
# recipe of SegFormer (_base_/softeq/segformer_so2.py).
_base_ = ['./segformer_mit-b0_8xb4-4.6k_voc12-512x512.py', '../_base_/softeq/segformer_so2.py']
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=_base_.softeq)
