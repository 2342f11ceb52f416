# Canon. baseline of dinov2-b14_8xb16-10e_cifar10-224px.py:
# its Base twin behind a C4 GCNN canonicaliser (recipe: _base_/baselines/canon_c4.py);
# same data, schedule, pretrained weights and rotated evaluation.
_base_ = ['./dinov2-b14_8xb16-10e_cifar10-224px.py', '../_base_/baselines/canon_c4.py']
model = dict(_delete_=True, type='mmsofteq.CanonicalizedModel', model=_base_.model,
             **_base_.canon)
