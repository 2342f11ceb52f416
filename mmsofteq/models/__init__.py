"""Models registered in the ``mmsofteq`` scope, and config helpers for the tools."""
from .from_config import (build_model_from_config, plain_config, plain_model_config,
                          softeq_of_config)
from .softeq_model import build_softeq_model

__all__ = [
    'build_model_from_config', 'build_softeq_model', 'plain_config', 'plain_model_config',
    'softeq_of_config'
]
