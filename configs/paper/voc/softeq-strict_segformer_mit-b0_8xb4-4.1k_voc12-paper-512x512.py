# Paper Tab. 10, strict. At softness 0 the authors' k <= 3 skip does not apply: every k > 1 conv
# is projected (the 3 x 3 patch embeddings and depthwise convs, the 2 x 2 sr convs too).
_base_ = ['./segformer_mit-b0_8xb4-4.1k_voc12-paper-512x512.py',
          '../../_base_/softeq/paper_bilinear.py']
softeq = dict(_base_.softeq, group='C36', cutoff='hard', softness=0.0)
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
