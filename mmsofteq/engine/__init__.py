"""Engine parts registered in the ``mmsofteq`` scope: hooks, evaluation loops, the FSDP
strategy and wrap policies, the timm cosine schedule."""
from . import fsdp_policies, fsdp_strategy, hooks, runner, schedulers  # noqa: F401

__all__ = ['fsdp_policies', 'fsdp_strategy', 'hooks', 'runner', 'schedulers']
