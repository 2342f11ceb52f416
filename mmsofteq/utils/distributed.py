"""Make mmseg/mmpretrain configs run on the machine at hand, GPU or CPU-only, 1 or N processes.

mmengine 0.10.7 assumes a GPU for distributed runs: ``init_dist`` always calls
``torch.cuda.set_device`` ("Found no NVIDIA driver" on a CPU machine), ``Runner.wrap_model``
passes ``device_ids=[LOCAL_RANK]`` to ``MMDistributedDataParallel`` (DDP rejects device ids for
a CPU module), and mmseg configs use ``SyncBN``, whose training forward raises on CPU tensors
in a distributed run. :func:`prepare_runtime` fixes the config and the process group *before*
the ``Runner`` is built:

* CUDA available: nothing changes (mmengine's NCCL path, SyncBN and all).
* CPU, any launcher: ``SyncBN`` / ``MMSyncBN`` norm configs anywhere in the config (``model``,
  top-level ``norm_cfg`` variables, ...) become ``BN`` and
  ``cfg.sync_bn`` is dropped (batch statistics are then per process, not synchronised).
* Any device, ``--launcher pytorch|mpi|slurm``: ``cfg.env_cfg.dist_cfg.timeout`` defaults to
  :data:`DEFAULT_COLLECTIVE_TIMEOUT_S` seconds (a frozen rank ends the job within minutes).
* CPU, ``--launcher pytorch|mpi|slurm``: the default process group is initialised here with
  ``gloo`` from the launcher's environment variables (the ``Runner`` skips ``init_dist`` when a
  group exists), ``cfg.env_cfg.dist_cfg.backend`` is set to ``gloo`` and
  ``cfg.model_wrapper_cfg`` gets ``device_ids=None`` (plus mmengine's defaults
  ``broadcast_buffers=False``, ``find_unused_parameters=cfg.find_unused_parameters``). A
  ``FlexibleRunner`` config's strategy is adapted the same way: ``FSDPStrategy`` wraps with
  ``MMFullyShardedDataParallel(device_id='cpu')`` (mmengine passes the CUDA index
  ``LOCAL_RANK`` otherwise), ``DDPStrategy`` with ``device_ids=None``.
"""
from __future__ import annotations

import datetime
import gc
import logging
import os
import subprocess
from dataclasses import dataclass
from typing import Any, Optional

import torch
import torch.distributed as torch_dist

SYNC_BN_TYPES = ('SyncBN', 'MMSyncBN')
LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')
DEFAULT_MASTER_ADDR = '127.0.0.1'
DEFAULT_MASTER_PORT = '29500'
#: Default collective timeout (seconds) of multi-process runs: a rank that stops answering
#: (frozen, deadlocked, killed without its process group noticing) ends the job after this
#: long instead of gloo's / NCCL's 30 / 10 minutes. Override with
#: ``env_cfg.dist_cfg.timeout`` (seconds) when a rank-0-only step (a huge checkpoint written
#: to slow storage, a long single-rank evaluation) can take longer.
DEFAULT_COLLECTIVE_TIMEOUT_S = 300


@dataclass(frozen=True)
class DistEnv:
    """Where this process sits in a multi-process job, read from its launcher's variables."""
    rank: int
    world_size: int
    local_rank: int
    master_addr: str
    master_port: str


def cuda_is_usable() -> bool:
    """True when at least one CUDA device can be used by this process."""
    return torch.cuda.is_available() and torch.cuda.device_count() > 0


def dist_env_from_launcher(launcher: str) -> DistEnv:
    """Read rank / world size / rendezvous address the way mmengine's ``init_dist`` does.

    ``pytorch``: torchrun's ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``,
    ``MASTER_PORT``. ``mpi``: ``OMPI_COMM_WORLD_{RANK,SIZE,LOCAL_RANK}``. ``slurm``:
    ``SLURM_{PROCID,NTASKS,LOCALID,NODELIST}`` (the first host of the node list, from
    ``scontrol``, is the master unless ``MASTER_ADDR`` is set). ``MASTER_PORT`` defaults to
    29500 for mpi/slurm, as in mmengine.
    """
    env = os.environ

    def need(name: str) -> str:
        if name not in env:
            raise KeyError(f'--launcher {launcher} needs the environment variable {name}; '
                           f'start the job with tools/dist_train.sh (torchrun), mpirun or srun')
        return env[name]

    if launcher == 'pytorch':
        return DistEnv(int(need('RANK')), int(need('WORLD_SIZE')),
                       int(env.get('LOCAL_RANK', 0)), need('MASTER_ADDR'), need('MASTER_PORT'))
    if launcher == 'mpi':
        return DistEnv(int(need('OMPI_COMM_WORLD_RANK')), int(need('OMPI_COMM_WORLD_SIZE')),
                       int(need('OMPI_COMM_WORLD_LOCAL_RANK')),
                       env.get('MASTER_ADDR', DEFAULT_MASTER_ADDR),
                       env.get('MASTER_PORT', DEFAULT_MASTER_PORT))
    if launcher == 'slurm':
        master_addr = env.get('MASTER_ADDR')
        if master_addr is None:
            node_list = need('SLURM_NODELIST')
            master_addr = subprocess.getoutput(
                f'scontrol show hostname {node_list} | head -n1').strip()
        return DistEnv(int(need('SLURM_PROCID')), int(need('SLURM_NTASKS')),
                       int(env.get('SLURM_LOCALID', 0)), master_addr,
                       env.get('MASTER_PORT', DEFAULT_MASTER_PORT))
    raise ValueError(f'launcher must be one of {LAUNCHERS[1:]}, got {launcher!r}')


def init_cpu_process_group(launcher: str, timeout_s: Optional[float] = None) -> DistEnv:
    """Initialise the default process group with ``gloo`` (no CUDA calls). Idempotent.

    Also exports ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT`` so
    that code reading them (mmengine's ``get_dist_info`` does not, but DDP helpers do) agrees.
    """
    dist_env = dist_env_from_launcher(launcher)
    for name, value in (('RANK', dist_env.rank), ('WORLD_SIZE', dist_env.world_size),
                        ('LOCAL_RANK', dist_env.local_rank),
                        ('MASTER_ADDR', dist_env.master_addr),
                        ('MASTER_PORT', dist_env.master_port)):
        os.environ[name] = str(value)
    if not torch_dist.is_initialized():
        kwargs: dict = {}
        if timeout_s is not None:
            kwargs['timeout'] = datetime.timedelta(seconds=float(timeout_s))
        torch_dist.init_process_group(backend='gloo', init_method='env://',
                                      rank=dist_env.rank, world_size=dist_env.world_size,
                                      **kwargs)
    return dist_env


def replace_sync_bn(node: Any) -> int:
    """Rewrite ``dict(type='SyncBN' | 'MMSyncBN', ...)`` to ``type='BN'`` in place.

    Walks dicts (``ConfigDict`` included), lists and tuples recursively; returns the number of
    norm configs rewritten. Other keys of the norm config (``requires_grad``, ``eps``,
    ``momentum``) are kept; ``SyncBN``-only keys (``group_size``, ``stats_mode``) are dropped.
    """
    count = 0
    if isinstance(node, dict):
        if isinstance(node.get('type'), str) and node['type'] in SYNC_BN_TYPES:
            node['type'] = 'BN'
            for key in ('group_size', 'stats_mode', 'process_group'):
                node.pop(key, None)
            count += 1
        for value in node.values():
            count += replace_sync_bn(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            count += replace_sync_bn(value)
    return count


def _is_ddp_wrapper(type_name: Any) -> bool:
    from mmengine.registry import MODEL_WRAPPERS
    from torch.nn.parallel import DistributedDataParallel

    wrapper = type_name if isinstance(type_name, type) else MODEL_WRAPPERS.get(type_name)
    return isinstance(wrapper, type) and issubclass(wrapper, DistributedDataParallel)


def _cpu_strategy(cfg) -> None:
    """A ``FlexibleRunner`` strategy (``cfg.strategy``) made to wrap a CPU model (in place)."""
    strategy = cfg.get('strategy')
    if not isinstance(strategy, dict):
        return
    name = str(strategy.get('type', '')).split('.')[-1]
    wrapper = dict(strategy.get('model_wrapper') or {})
    if name == 'FSDPStrategy':
        wrapper.setdefault('type', 'MMFullyShardedDataParallel')
        wrapper.setdefault('device_id', 'cpu')
    elif name == 'DDPStrategy':
        wrapper.setdefault('type', 'MMDistributedDataParallel')
        wrapper['device_ids'] = None
    else:
        return
    strategy['model_wrapper'] = wrapper


def set_collective_timeout(cfg) -> float:
    """Default ``cfg.env_cfg.dist_cfg.timeout`` to :data:`DEFAULT_COLLECTIVE_TIMEOUT_S`
    (in place); return the timeout in seconds. Raises ``ValueError`` for a non-positive or
    non-numeric value."""
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    timeout = dist_cfg.setdefault('timeout', DEFAULT_COLLECTIVE_TIMEOUT_S)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ValueError('env_cfg.dist_cfg.timeout must be a positive number of seconds, '
                         f'got {timeout!r}')
    return float(timeout)


def prepare_runtime(cfg, launcher: str) -> str:
    """Adapt ``cfg`` (in place) and the process group to this machine; return the device.

    Call it after every other edit of ``cfg`` (``--cfg-options``, ``--tta``, ...) and before
    ``Runner.from_cfg(cfg)``. Returns ``'cuda'`` or ``'cpu'``. See the module docstring.
    """
    if launcher not in LAUNCHERS:
        raise ValueError(f'launcher must be one of {LAUNCHERS}, got {launcher!r}')

    def log(message: str) -> None:
        from mmengine.logging import print_log
        print_log(message, logger='current', level=logging.WARNING)

    if launcher != 'none':
        set_collective_timeout(cfg)
    if cuda_is_usable():
        return 'cuda'

    replaced = sum(replace_sync_bn(cfg[key]) for key in list(cfg.keys()))
    if replaced:
        log(f'no CUDA device: {replaced} SyncBN norm config(s) in the config replaced by BN '
            '(batch statistics are per process)')
    if cfg.get('sync_bn') is not None:
        log(f'no CUDA device: ignoring cfg.sync_bn={cfg.sync_bn!r}')
        cfg.sync_bn = None

    if launcher != 'none':
        env_cfg = cfg.setdefault('env_cfg', {})
        dist_cfg = env_cfg.setdefault('dist_cfg', {})
        dist_cfg['backend'] = 'gloo'
        dist_env = init_cpu_process_group(launcher, timeout_s=dist_cfg.get('timeout'))

        _cpu_strategy(cfg)
        wrapper_cfg = cfg.get('model_wrapper_cfg')
        if wrapper_cfg is None:
            wrapper_cfg = dict(type='MMDistributedDataParallel', broadcast_buffers=False,
                               find_unused_parameters=cfg.get('find_unused_parameters', False))
        wrapper_cfg.setdefault('type', 'MMDistributedDataParallel')
        if _is_ddp_wrapper(wrapper_cfg['type']):
            wrapper_cfg['device_ids'] = None
        cfg.model_wrapper_cfg = wrapper_cfg
        if dist_env.rank == 0:
            log(f'no CUDA device: {launcher} launcher on CPU with gloo, world size '
                f'{dist_env.world_size}')
    return 'cpu'


def shutdown_distributed() -> None:
    """Free what holds the process group, wait for every rank, destroy the group (if any).

    Call it after a run finished normally, once the caller dropped its ``Runner``
    (``del runner``): the DDP wrapper inside keeps the group alive, and a gloo group torn down
    only during interpreter shutdown can abort in its threads ("terminate called without an
    active exception", SIGABRT) and fail a run that had completed.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        gc.collect()  # the Runner <-> hooks cycles hold the DDP model and with it the group
        torch_dist.barrier()
        torch_dist.destroy_process_group()
        gc.collect()
