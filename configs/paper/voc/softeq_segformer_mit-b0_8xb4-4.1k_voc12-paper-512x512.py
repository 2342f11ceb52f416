# Paper Tab. 4, Ours.
_base_ = ['./segformer_mit-b0_8xb4-4.1k_voc12-paper-512x512.py',
          '../../_base_/softeq/paper_bilinear.py']
softeq = dict(_base_.softeq, group='C36', cutoff='hard', softness=0.95, min_kernel_size=4)
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
