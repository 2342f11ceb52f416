# Canon. baseline of segformer_mit-b0_8xb4-4.6k_voc12-512x512.py:
# its Base twin behind a C4 GCNN canonicaliser (recipe: _base_/baselines/canon_c4.py);
# same data, schedule, pretrained weights and rotated evaluation.
_base_ = ['./segformer_mit-b0_8xb4-4.6k_voc12-512x512.py', '../_base_/baselines/canon_c4.py']
model = dict(_delete_=True, type='mmsofteq.CanonicalizedModel', model=_base_.model,
             **_base_.canon)
