# Paper Tab. 2, Ours, "coarse" run (which run the table reports: configs/README.md, S2).
_base_ = ['./resnet50_8xb16-15e_in1k-paper-224px.py', '../../_base_/softeq/paper_bilinear.py']
softeq = dict(_base_.softeq, group='C18', cutoff='smooth_paper', softness=0.95, min_kernel_size=4)
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
