# Canon. baseline of resnet50_8xb32-10e_in1k.py:
# its Base twin behind a C4 GCNN canonicaliser (recipe: _base_/baselines/canon_c4.py);
# same data, schedule, pretrained weights and rotated evaluation.
_base_ = ['./resnet50_8xb32-10e_in1k.py', '../_base_/baselines/canon_c4.py']
model = dict(_delete_=True, type='mmsofteq.CanonicalizedModel', model=_base_.model,
             **_base_.canon)
