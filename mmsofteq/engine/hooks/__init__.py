"""Hooks registered in the ``mmsofteq`` scope."""
from .finite_check_hook import FiniteCheckHook, first_non_finite
from .softeq_hook import SoftEqHook

__all__ = ['FiniteCheckHook', 'SoftEqHook', 'first_non_finite']
