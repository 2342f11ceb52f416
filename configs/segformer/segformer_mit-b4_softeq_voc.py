# SegFormer MiT-B4 on PASCAL VOC 2012, softly SO(2)-equivariant: segformer_mit-b4_base_voc.py
# plus the soft-equivariance keys of ../segformer_softeq_voc.py (see there for what they
# project). Not in the paper's tables.
#   python tools/train.py configs/segformer/segformer_mit-b4_softeq_voc.py
_base_ = ['./segformer_mit-b4_base_voc.py']

softeq = dict(group='SO2', softness=0.95, cutoff='hard', method='auto', min_kernel_size=4)
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
