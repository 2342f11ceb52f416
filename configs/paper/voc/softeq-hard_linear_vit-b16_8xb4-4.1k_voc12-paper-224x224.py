# Paper Tab. 7, hard threshold (ViT, PASCAL VOC):
# softeq_linear_vit-b16_8xb4-4.1k_voc12-paper-224x224.py with the hard cutoff in place of the
# smooth mask; everything else the same.
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
    # 14 x 14 pos grid: 175 of 196 kept
    softness=dict(patch_embed=1.0, pos_embed=0.9),
    # no skip rule (the ViT has no kernel with k <= 3)
    min_kernel_size=2,
)
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
