"""Models registered in the ``mmsofteq`` scope."""
from .softeq_model import build_softeq_model

__all__ = ['build_softeq_model']
