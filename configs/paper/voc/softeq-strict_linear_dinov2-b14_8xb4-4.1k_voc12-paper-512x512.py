# Paper Tab. 10, strict. method='svd' as the authors' VOC DINOv2 runs (decomposition_method:
# "svd"); their other runs took the Schur route.
_base_ = ['./linear_dinov2-b14_8xb4-4.1k_voc12-paper-512x512.py',
          '../../_base_/softeq/paper_bilinear.py']
softeq = dict(_base_.softeq, group='C720', method='svd', cutoff='hard',
              softness=dict(patch_embed=0.0, pos_embed=0.0))
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
