# Paper Tab. 4, Ours, and Tab. 7, smooth. The mask weighs the dropped directions at <= 1.5e-7
# here: in effect the hard cutoff of the Tab. 7 hard config.
_base_ = ['./linear_vit-b16_8xb4-4.1k_voc12-paper-224x224.py',
          '../../_base_/softeq/paper_bilinear.py']
softeq = dict(_base_.softeq, group='C720', cutoff='smooth_paper',
              softness=dict(patch_embed=1.0, pos_embed=0.9))
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
