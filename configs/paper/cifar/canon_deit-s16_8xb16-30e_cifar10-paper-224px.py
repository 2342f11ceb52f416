# Paper Tab. 1, Canon. row. Canon. baseline of deit-s16_8xb16-30e_cifar10-paper-224px.py: its
# Base twin behind a C4 GCNN canonicaliser (recipe: _base_/baselines/canon_c4.py); same data,
# schedule, weights and evaluation. The paper's Canon. used an e2cnn steerable C_n canonicaliser
# (equiadapt).
_base_ = [
    './deit-s16_8xb16-30e_cifar10-paper-224px.py',
    '../../_base_/baselines/canon_c4.py',
]
model = dict(_delete_=True, type='mmsofteq.CanonicalizedModel', model=_base_.model,
             **_base_.canon)
