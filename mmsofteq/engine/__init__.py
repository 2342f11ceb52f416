"""Engine parts registered in the ``mmsofteq`` scope: hooks, evaluation loops, the FSDP
strategy and wrap policies."""
from . import fsdp_policies, fsdp_strategy, hooks, runner  # noqa: F401

__all__ = ['fsdp_policies', 'fsdp_strategy', 'hooks', 'runner']
