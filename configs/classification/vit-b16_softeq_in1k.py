# ViT-B/16 on ImageNet-1k, softly SO(2)-equivariant: vit-b16_base_in1k.py plus the
# soft-equivariance keys below.
# Paper (Ours row), Acc / aAcc / cAcc / iErr: 82.28 / 80.56 / 81.40 / 0.15.
#   python tools/train.py configs/classification/vit-b16_softeq_in1k.py
_base_ = ['./vit-b16_base_in1k.py']

# As the paper's ViT (SPEC §3): 16x16 patch-embedding kernels untouched (softness 1.0),
# the 14x14 position-embedding grid (cls token excluded) projected at softness 0.9.
softeq = dict(group='SO2', softness=dict(patch_embed=1.0, pos_embed=0.9), cutoff='hard',
              method='auto')
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
