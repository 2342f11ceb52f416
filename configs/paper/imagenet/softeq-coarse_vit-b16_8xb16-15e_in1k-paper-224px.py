# Paper Tab. 2, Ours (vit-b16, ImageNet-1k), the paper's "coarse" run:
# vit-b16_8xb16-15e_in1k-paper-224px.py with the projection below. Which of the two runs (coarse
# / fine) the table reports is not recorded: run both.
_base_ = ['./vit-b16_8xb16-15e_in1k-paper-224px.py']
softeq = dict(
    # bilinear C_4 (R_4 is the exact quarter turn)
    group='C4',
    # D = (R_n - I) / (2 pi / n), R_n by bilinear resampling of one-hot images
    generator='bilinear',
    # the authors' Schur route (decomposition_method: "schur"): real Schur vectors of D
    method='schur_paper',
    # keep z + int((N - z - 1) * s) directions by ascending |T_ii|
    rounding='index',
    # the paper's smooth mask: the others weighted exp(-sigma / (s + 1e-6))
    cutoff='smooth_paper',
    # patch 16 x 16 at 0.9, pos 14 x 14 at 0.8
    softness=dict(patch_embed=0.9, pos_embed=0.8),
    # no skip rule (the ViT has no kernel with k <= 3)
    min_kernel_size=2,
)
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
