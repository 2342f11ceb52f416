# Paper Tab. 10, strict. C_18 is ours, as in the CIFAR Ours configs (configs/README.md, S1).
_base_ = ['./dinov2-b14_8xb16-30e_cifar10-paper-224px.py', '../../_base_/softeq/paper_bilinear.py']
softeq = dict(_base_.softeq, group='C18', cutoff='hard',
              softness=dict(patch_embed=0.0, pos_embed=0.0))
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
