# SegFormer MiT-B0 on PASCAL VOC 2012, softly SO(2)-equivariant -- the "Ours" row of the
# paper's VOC table (mIoU / aIoU / cIoU / eErr = 66.34 / 62.52 / 64.40 / 10.64).
#   python tools/train.py configs/segformer_softeq_voc.py
# It is segformer_base_voc.py plus the lines below: this is all it takes to adopt mmsofteq.
_base_ = ['./segformer_base_voc.py']

# Projected: the overlapping patch embeddings (7x7, 3x3) and the spatial-reduction convs
# (8x8, 4x4, 2x2) and Mix-FFN depthwise 3x3 convs of MiT, at softness 0.95 (SPEC §3).
# min_kernel_size=4 reproduces the reference implementation, which leaves k <= 3 kernels
# untouched at softness > 0.9 (so: the 7x7 stem embedding and the 8x8 / 4x4 sr convs);
# set it to 2 to project every k > 1 kernel.
softeq = dict(group='SO2', softness=0.95, cutoff='hard', method='auto', min_kernel_size=4)
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
