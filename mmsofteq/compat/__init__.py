"""Compatibility shims between the pinned OpenMMLab stack and newer torch releases."""
from .checkpoint_loading import (TRUST_ENV_VAR, enable_safe_checkpoint_loading,
                                 mmengine_safe_globals, trust_checkpoints_enabled,
                                 trusted_checkpoint_loading)

__all__ = [
    'TRUST_ENV_VAR', 'enable_safe_checkpoint_loading', 'mmengine_safe_globals',
    'trust_checkpoints_enabled', 'trusted_checkpoint_loading'
]
