# Paper Tab. 1, Ours. The paper does not record its CIFAR n or softness: C_18 and the ImageNet
# ViT-B/16 fine run's softness are ours (configs/README.md, S1).
_base_ = ['./deit-s16_8xb16-30e_cifar100-paper-224px.py', '../../_base_/softeq/paper_bilinear.py']
softeq = dict(_base_.softeq, group='C18', cutoff='smooth_paper',
              softness=dict(patch_embed=1.0, pos_embed=0.8))
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
