# The keys every soft-equivariant config of configs/paper/ shares: the projector of the authors'
# code (their softeq/equi_utils/rotation_filters.py, get_invariant_filter_rotation). Generator
# D = (R_n - I) / (2 pi / n), R_n the bilinear resampling of one-hot images; their Schur route
# (decomposition_method: "schur"): real Schur vectors of D ordered by |T_ii|, of which the first
# z + int((N - z - 1) * s) are kept, z the null-space count. At softness 0 (Tab. 10, strict) only
# the null space is kept: for n != 4, the constant field. Each config adds its group C_n, cutoff
# ('smooth_paper': the authors' mask, the dropped directions weighted exp(-sigma / (s + 1e-6)))
# and softness per kind. min_kernel_size=2 projects every k > 1 kernel; where the authors' code
# skipped k <= 3 kernels (softness above 0.8 in classification, above 0.9 in segmentation) the
# config sets 4, which leaves ResNet-50's 7 x 7 stem and SegFormer's 7 x 7 stem and 8 x 8 / 4 x 4
# spatial-reduction convs projected.
softeq = dict(generator='bilinear', method='schur_paper', rounding='index', min_kernel_size=2)
