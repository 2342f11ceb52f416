# DINOv2 ViT-B/14 on ImageNet-1k, softly SO(2)-equivariant: dinov2-b14_base_in1k.py plus the
# soft-equivariance keys below.
# Paper (Ours row), Acc / aAcc / cAcc / iErr: 85.31 / 84.44 / 84.87 / 0.05.
#   python tools/train.py configs/classification/dinov2-b14_softeq_in1k.py
_base_ = ['./dinov2-b14_base_in1k.py']

# As the paper's DINOv2 (SPEC §3): 14x14 patch-embedding kernels projected at softness
# 0.95, the position-embedding grid untouched (softness 1.0).
softeq = dict(group='SO2', softness=dict(patch_embed=0.95, pos_embed=1.0), cutoff='hard',
              method='auto')
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
