"""Runtime helpers shared by ``tools/`` (launching on GPU or CPU-only machines)."""
from .distributed import (DistEnv, cuda_is_usable, dist_env_from_launcher,
                          init_cpu_process_group, prepare_runtime, replace_sync_bn,
                          shutdown_distributed)

__all__ = [
    'DistEnv', 'cuda_is_usable', 'dist_env_from_launcher', 'init_cpu_process_group',
    'prepare_runtime', 'replace_sync_bn', 'shutdown_distributed'
]
