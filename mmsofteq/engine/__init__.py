"""Engine parts registered in the ``mmsofteq`` scope: hooks and evaluation loops."""
from . import hooks, runner  # noqa: F401

__all__ = ['hooks', 'runner']
