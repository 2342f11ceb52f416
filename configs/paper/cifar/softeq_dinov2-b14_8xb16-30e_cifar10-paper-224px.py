# Paper Tab. 1, Ours. The paper does not record its CIFAR n or softness: C_18 and the ImageNet
# DINOv2 fine run's softness are ours (configs/README.md, S1).
_base_ = ['./dinov2-b14_8xb16-30e_cifar10-paper-224px.py', '../../_base_/softeq/paper_bilinear.py']
softeq = dict(_base_.softeq, group='C18', cutoff='smooth_paper',
              softness=dict(patch_embed=0.8, pos_embed=1.0))
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
