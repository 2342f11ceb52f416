# Paper Tab. 10, strict (ViT, PASCAL VOC): linear_vit-b16_8xb4-4.1k_voc12-paper-224x224.py at
# softness 0 for the patch kernels and the position grid. softness 0 everywhere: only the null
# space of D is kept, which for the bilinear generator (n != 4) is the constant field.
_base_ = ['./linear_vit-b16_8xb4-4.1k_voc12-paper-224x224.py']
softeq = dict(
    # bilinear C_720, the paper's "continuous" SO(2)
    group='C720',
    # D = (R_n - I) / (2 pi / n), R_n by bilinear resampling of one-hot images
    generator='bilinear',
    # the authors' Schur route (decomposition_method: "schur"): real Schur vectors of D
    method='schur_paper',
    # keep z + int((N - z - 1) * s) directions by ascending |T_ii|
    rounding='index',
    # keep the selected directions, drop the others
    cutoff='hard',
    # strict: 1 of 256 / 1 of 196 kept
    softness=dict(patch_embed=0.0, pos_embed=0.0),
    # no skip rule (the ViT has no kernel with k <= 3)
    min_kernel_size=2,
)
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
