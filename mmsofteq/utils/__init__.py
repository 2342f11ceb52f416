"""Low-level helpers with no dependence on the rest of mmsofteq: rotation geometry of
image-like tensors, safe checkpoint loading, CPU/GPU distributed launch."""
from .checkpoint_download import download_checkpoint
from .checkpoint_errors import (DamagedCheckpointError, MalformedCheckpointError,
                                UnsafeCheckpointError)
from .checkpoint_loading import (enable_safe_checkpoint_loading, load_checkpoint_file,
                                 mmengine_checkpoint_globals)
from .checkpoint_trust import TRUST_ENV_VAR, trust_checkpoints_enabled, trusted_checkpoint_loading
from .distributed import (DEFAULT_COLLECTIVE_TIMEOUT_S, DistEnv, cuda_is_usable,
                          dist_env_from_launcher, init_cpu_process_group, prepare_runtime,
                          replace_sync_bn, shutdown_distributed)
from .rotation import (content_region, quarter_turns, rotate_field, rotate_label_map,
                       rotation_sampling_matrix, rotation_valid_mask, sampling_grid)
from .tables import TABLE_STYLES, markdown_header, markdown_row, text_table

__all__ = [
    'DamagedCheckpointError', 'MalformedCheckpointError', 'UnsafeCheckpointError',
    'download_checkpoint',
    'enable_safe_checkpoint_loading', 'load_checkpoint_file', 'mmengine_checkpoint_globals',
    'TRUST_ENV_VAR', 'trust_checkpoints_enabled', 'trusted_checkpoint_loading', 'DistEnv',
    'cuda_is_usable', 'DEFAULT_COLLECTIVE_TIMEOUT_S',
    'dist_env_from_launcher', 'init_cpu_process_group', 'prepare_runtime', 'replace_sync_bn',
    'shutdown_distributed', 'content_region', 'quarter_turns', 'rotate_field',
    'rotate_label_map', 'rotation_sampling_matrix', 'rotation_valid_mask', 'sampling_grid',
    'TABLE_STYLES', 'markdown_header', 'markdown_row', 'text_table'
]
