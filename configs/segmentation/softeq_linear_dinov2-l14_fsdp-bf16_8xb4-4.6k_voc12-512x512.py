# Soft SO(2)-equivariant DINOv2 ViT-L/14 + linear head, FlexibleRunner + FSDP + bf16 (the
# scale recipe, docs/scaling.md): the wrapper form injects W = P·θ before the strategy wraps
# the model (the hook form cannot: FSDP has sharded the parameters by then).
_base_ = ['./linear_dinov2-l14_fsdp-bf16_8xb4-4.6k_voc12-512x512.py',
          '../_base_/softeq/dinov2_so2.py']
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model, softeq=_base_.softeq)
