# Paper Tab. 4, Ours (DINOv2, PASCAL VOC): linear_dinov2-b14_8xb4-4.1k_voc12-paper-512x512.py
# with the paper's projection: the 14 x 14 patch kernels at softness 0.95 on
# bilinear C_720, hard; the position grid untouched.
_base_ = ['./linear_dinov2-b14_8xb4-4.1k_voc12-paper-512x512.py']
softeq = dict(
    # bilinear C_720, the paper's "continuous" SO(2)
    group='C720',
    # D = (R_n - I) / (2 pi / n), R_n by bilinear resampling of one-hot images
    generator='bilinear',
    # the authors' VOC DINOv2 run decomposed by SVD (decomposition_method: "svd")
    method='svd',
    # keep z + int((N - z - 1) * s) directions by ascending sigma
    rounding='index',
    # keep the selected directions, drop the others
    cutoff='hard',
    # 14 x 14 patch kernels: 185 of 196 kept
    softness=dict(patch_embed=0.95, pos_embed=1.0),
    # no skip rule (no kernel with k <= 3)
    min_kernel_size=2,
)
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
