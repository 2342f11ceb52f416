"""Hooks registered in the ``mmsofteq`` scope."""
from .softeq_hook import SoftEqHook

__all__ = ['SoftEqHook']
