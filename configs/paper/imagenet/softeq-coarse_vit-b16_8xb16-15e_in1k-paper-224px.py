# Paper Tab. 2, Ours, "coarse" run (which run the table reports: configs/README.md, S2).
_base_ = ['./vit-b16_8xb16-15e_in1k-paper-224px.py', '../../_base_/softeq/paper_bilinear.py']
softeq = dict(_base_.softeq, group='C4', cutoff='smooth_paper',
              softness=dict(patch_embed=0.9, pos_embed=0.8))
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
