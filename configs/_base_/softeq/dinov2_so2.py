# Soft SO(2) equivariance of DINOv2 ViT-B/14: the 14x14 patch-embedding kernels at softness
# 0.95, the position-embedding grid untouched (softness 1.0).
softeq = dict(group='SO2', softness=dict(patch_embed=0.95, pos_embed=1.0), cutoff='hard',
              method='auto')
