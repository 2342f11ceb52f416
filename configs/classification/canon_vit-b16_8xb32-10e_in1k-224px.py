# Canon. baseline of vit-b16_8xb32-10e_in1k-224px.py:
# its Base twin behind a C4 GCNN canonicaliser (recipe: _base_/baselines/canon_c4.py);
# same data, schedule, pretrained weights and rotated evaluation.
_base_ = ['./vit-b16_8xb32-10e_in1k-224px.py', '../_base_/baselines/canon_c4.py']
model = dict(_delete_=True, type='mmsofteq.CanonicalizedModel', model=_base_.model,
             **_base_.canon)
