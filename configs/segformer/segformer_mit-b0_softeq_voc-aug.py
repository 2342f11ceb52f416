# SegFormer MiT-B0, softly SO(2)-equivariant, on VOC 2012 train + SBD "aug":
# segformer_mit-b0_base_voc-aug.py plus the soft-equivariance keys of ../segformer_softeq_voc.py.
#   python tools/train.py configs/segformer/segformer_mit-b0_softeq_voc-aug.py
_base_ = ['./segformer_mit-b0_base_voc-aug.py']

softeq = dict(group='SO2', softness=0.95, cutoff='hard', method='auto', min_kernel_size=4)
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
