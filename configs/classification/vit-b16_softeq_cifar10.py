# ViT-B/16 on CIFAR-10, softly SO(2)-equivariant: vit-b16_base_cifar10.py plus the
# soft-equivariance keys below.
# Paper (Ours row), Acc / aAcc / cAcc / iErr: 97.79 / 96.69 / 97.24 / 7.02.
#   python tools/train.py configs/classification/vit-b16_softeq_cifar10.py
_base_ = ['./vit-b16_base_cifar10.py']

# As the paper's ViT (SPEC §3): 16x16 patch-embedding kernels untouched (softness 1.0),
# the 14x14 position-embedding grid (cls token excluded) projected at softness 0.9.
softeq = dict(group='SO2', softness=dict(patch_embed=1.0, pos_embed=0.9), cutoff='hard',
              method='auto')
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
