# ViT-B/16 + linear head on PASCAL VOC 2012 at 224 px, softly SO(2)-equivariant -- the "Ours"
# row of the paper's VOC table (mIoU / aIoU / cIoU / eErr = 74.78 / 71.61 / 73.18 / 11.12).
#   python tools/train.py configs/vit_softeq_voc.py
# It is vit_base_voc.py plus the lines below.
_base_ = ['./vit_base_voc.py']

# SPEC §3: the 16x16 patch-embedding kernels are left as they are (softness 1.0); the 14x14
# position-embedding grid (cls token excluded) is projected at softness 0.9.
softeq = dict(group='SO2', softness=dict(patch_embed=1.0, pos_embed=0.9), cutoff='hard',
              method='auto')
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
