# Paper Tab. 10, strict (deit-s16, cifar10): deit-s16_8xb16-30e_cifar10-paper-224px.py at softness
# 0 for every projected tensor (the skip rule applies above softness 0.8 only). softness 0
# everywhere: only the null space of D is kept, which for the bilinear generator (n != 4) is the
# constant field.
_base_ = ['./deit-s16_8xb16-30e_cifar10-paper-224px.py']
softeq = dict(
    # bilinear C_18
    group='C18',
    # D = (R_n - I) / (2 pi / n), R_n by bilinear resampling of one-hot images
    generator='bilinear',
    # the authors' Schur route (decomposition_method: "schur"): real Schur vectors of D
    method='schur_paper',
    # keep z + int((N - z - 1) * s) directions by ascending |T_ii|
    rounding='index',
    # keep the selected directions, drop the others
    cutoff='hard',
    # strict
    softness=dict(patch_embed=0.0, pos_embed=0.0),
    # every kernel with k > 1
    min_kernel_size=2,
)
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
