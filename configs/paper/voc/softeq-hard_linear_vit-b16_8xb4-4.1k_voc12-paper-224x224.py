# Paper Tab. 7, hard.
_base_ = ['./linear_vit-b16_8xb4-4.1k_voc12-paper-224x224.py',
          '../../_base_/softeq/paper_bilinear.py']
softeq = dict(_base_.softeq, group='C720', cutoff='hard',
              softness=dict(patch_embed=1.0, pos_embed=0.9))
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
