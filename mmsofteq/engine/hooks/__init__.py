"""Hooks registered in the ``mmsofteq`` scope."""
from .data_check_hook import DataCheckHook
from .finite_check_hook import FiniteCheckHook, first_non_finite
from .run_guard_hook import RunGuardHook, WorkDirInUseError
from .softeq_hook import SoftEqHook

__all__ = ['DataCheckHook', 'FiniteCheckHook', 'RunGuardHook', 'SoftEqHook', 'WorkDirInUseError',
           'first_non_finite']
