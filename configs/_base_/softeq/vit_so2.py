# Soft SO(2) equivariance of ViT-B/16: the 16x16 patch-embedding kernels untouched
# (softness 1.0), the 14x14 position-embedding grid (cls token excluded) at softness 0.9.
softeq = dict(group='SO2', softness=dict(patch_embed=1.0, pos_embed=0.9), cutoff='hard',
              method='auto')
