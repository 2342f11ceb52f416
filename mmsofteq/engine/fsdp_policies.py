"""FSDP wrap policies a config can name (mmengine's ``MMFullyShardedDataParallel`` looks
``auto_wrap_policy=dict(type=...)`` up in the ``FUNCTIONS`` registry, where mmengine registers
none): ``auto_wrap_policy=dict(type='mmsofteq.size_based_auto_wrap_policy',
min_num_params=int(1e7))`` wraps every sub-module of at least that many parameters (the
transformer blocks of a ViT-L) in its own FSDP unit. ``docs/scaling.md``."""
from torch.distributed.fsdp.wrap import size_based_auto_wrap_policy

from ..registry import FUNCTIONS

FUNCTIONS.register_module(name='size_based_auto_wrap_policy', module=size_based_auto_wrap_policy)
