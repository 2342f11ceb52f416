# Paper Tab. 2, Canon.
_base_ = [
    './resnet50_8xb16-15e_in1k-paper-224px.py',
    '../../_base_/baselines/canon_c4.py',
]
model = dict(_delete_=True, type='mmsofteq.CanonicalizedModel', model=_base_.model,
             **_base_.canon)
