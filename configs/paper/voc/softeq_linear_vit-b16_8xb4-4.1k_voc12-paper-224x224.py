# Paper Tab. 4, Ours (ViT, PASCAL VOC), and Tab. 7, smooth:
# linear_vit-b16_8xb4-4.1k_voc12-paper-224x224.py with the paper's projection:
# the 14 x 14 position grid (cls token excluded, data side) at softness 0.9 on bilinear C_720,
# patch kernels untouched, the smooth mask.
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
    # the paper's smooth mask exp(-sigma / (s + 1e-6)); <= 1.5e-7 here: the hard projector
    cutoff='smooth_paper',
    # 14 x 14 pos grid: 175 of 196 kept
    softness=dict(patch_embed=1.0, pos_embed=0.9),
    # no skip rule (the ViT has no kernel with k <= 3)
    min_kernel_size=2,
)
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
