# Paper Tab. 10, strict. C_18 is ours, as in the CIFAR Ours configs (configs/README.md, S1). At
# softness 0 the authors' k <= 3 skip does not apply: every k > 1 conv is projected, 3 x 3
# included.
_base_ = ['./resnet50_8xb16-30e_cifar100-paper-224px.py', '../../_base_/softeq/paper_bilinear.py']
softeq = dict(_base_.softeq, group='C18', cutoff='hard', softness=0.0)
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
