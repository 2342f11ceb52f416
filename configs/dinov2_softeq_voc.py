# DINOv2 ViT-B/14 + linear head on PASCAL VOC 2012 at 512 px, softly SO(2)-equivariant -- the
# "Ours" row of the paper's VOC table (mIoU / aIoU / cIoU / eErr = 89.48 / 88.70 / 89.09 / 3.70).
#   python tools/train.py configs/dinov2_softeq_voc.py
# It is dinov2_base_voc.py plus the lines below.
_base_ = ['./dinov2_base_voc.py']

# SPEC §3: the 14x14 patch-embedding kernels are projected at softness 0.95; the 37x37
# position-embedding grid is left as it is (softness 1.0).
softeq = dict(group='SO2', softness=dict(patch_embed=0.95, pos_embed=1.0), cutoff='hard',
              method='auto')
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
