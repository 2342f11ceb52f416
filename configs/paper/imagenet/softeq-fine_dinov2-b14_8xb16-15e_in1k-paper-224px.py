# Paper Tab. 2, Ours (dinov2-b14, ImageNet-1k), the paper's "fine" run:
# dinov2-b14_8xb16-15e_in1k-paper-224px.py with the projection below. Which of the two runs
# (coarse / fine) the table reports is not recorded: run both.
_base_ = ['./dinov2-b14_8xb16-15e_in1k-paper-224px.py']
softeq = dict(
    # bilinear C_72
    group='C72',
    # D = (R_n - I) / (2 pi / n), R_n by bilinear resampling of one-hot images
    generator='bilinear',
    # the authors' Schur route (decomposition_method: "schur"): real Schur vectors of D
    method='schur_paper',
    # keep z + int((N - z - 1) * s) directions by ascending |T_ii|
    rounding='index',
    # the paper's smooth mask: the others weighted exp(-sigma / (s + 1e-6))
    cutoff='smooth_paper',
    # patch 14 x 14 at 0.8, pos untouched
    softness=dict(patch_embed=0.8, pos_embed=1.0),
    # no skip rule (no kernel with k <= 3)
    min_kernel_size=2,
)
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
