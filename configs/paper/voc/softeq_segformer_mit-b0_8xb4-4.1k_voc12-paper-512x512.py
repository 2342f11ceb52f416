# Paper Tab. 4, Ours (SegFormer, PASCAL VOC): segformer_mit-b0_8xb4-4.1k_voc12-paper-512x512.py
# with the paper's projection: every conv with k > 3 (the 7 x 7 stem, the 8 x 8 /
# 4 x 4 spatial-reduction convs) at softness 0.95 on bilinear C_36, hard.
_base_ = ['./segformer_mit-b0_8xb4-4.1k_voc12-paper-512x512.py']
softeq = dict(
    # bilinear C_36
    group='C36',
    # D = (R_n - I) / (2 pi / n), R_n by bilinear resampling of one-hot images
    generator='bilinear',
    # the authors' Schur route (decomposition_method: "schur"): real Schur vectors of D
    method='schur_paper',
    # keep z + int((N - z - 1) * s) directions by ascending |T_ii|
    rounding='index',
    # keep the selected directions, drop the others
    cutoff='hard',
    # 7 x 7: 45 of 49, 8 x 8: 59 of 64, 4 x 4: 14 of 16 kept
    softness=0.95,
    # the paper's code skips k <= 3 convs above softness 0.9
    min_kernel_size=4,
)
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
