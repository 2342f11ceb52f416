# Paper Tab. 4, Canon.
_base_ = [
    './segformer_mit-b0_8xb4-4.1k_voc12-paper-512x512.py',
    '../../_base_/baselines/canon_c4.py',
]
model = dict(_delete_=True, type='mmsofteq.CanonicalizedModel', model=_base_.model,
             **_base_.canon)
# The authors' canonicaliser is a "head" parameter group (their seg_trainer.py): it trains at
# the head's lr, 1e-3 (the backbone lr x 10.0), not at the backbone's.
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'canonicalizer': dict(lr_mult=10.0)}))
