# Paper Tab. 10, strict (SegFormer, PASCAL VOC):
# segformer_mit-b0_8xb4-4.1k_voc12-paper-512x512.py at softness 0 for every conv with k > 1: at
# softness 0 the paper's skip rule (k <= 3 above 0.9) does not apply, so the 3 x 3 patch
# embeddings, depthwise and 2 x 2 sr convs are projected too. softness 0 everywhere: only the
# null space of D is kept, which for the bilinear generator (n != 4) is the constant field
#.
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
    # strict: 1 direction per k x k
    softness=0.0,
    # every conv with k > 1 (the skip rule applies above 0.9 only)
    min_kernel_size=2,
)
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
