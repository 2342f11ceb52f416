"""What every tool does with a config path and ``--cfg-options``: one implementation.

``--cfg-options softeq.softness=0.5`` (or any ``softeq.<key>``) changes the soft equivariance
the config *uses* (the wrapper's or the hook's ``softeq``), not only the top-level ``softeq``
variable the config was written with, which mmengine's ``merge_from_dict`` alone would do
silently (the model would keep its old settings). ``import mmsofteq`` (a config's
``custom_imports``) installs that redirect into ``mmengine.config.Config.merge_from_dict``
itself (:func:`install_softeq_overrides`), so mmseg's and mmpretrain's own ``train.py`` /
``test.py`` and ``mim`` honour it too, and a ``softeq.*`` option for a config without soft
equivariance raises there as well.
"""
from __future__ import annotations

import argparse
import copy
import os
import os.path as osp
from typing import Optional

from mmengine.config import Config, DictAction

from .config import find_softeq

SOFTEQ_OPTION_PREFIX = 'softeq.'


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--cfg-options k=v ...`` (as mmseg's tools)."""
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value (mmengine DictAction; lists as '
        'key="[a,b]"); softeq.<key>=... changes the soft equivariance in use')


def add_launcher_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--launcher`` and ``--local-rank`` (as mmseg's ``train.py``/``test.py``)."""
    from ..utils.distributed import LAUNCHERS
    parser.add_argument('--launcher', choices=LAUNCHERS, default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank, older versions --local_rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def export_local_rank(args: argparse.Namespace) -> None:
    """Set ``LOCAL_RANK`` from ``--local-rank`` unless a launcher already did (as mmseg)."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))


def runner_config(args: argparse.Namespace) -> Config:
    """The config ``tools/train.py`` / ``test.py`` start from: ``args.config`` with
    ``args.cfg_options`` merged, ``launcher`` set, and ``work_dir`` from ``--work-dir``, else
    the config's, else ``./work_dirs/<config name>`` (mmseg's priority)."""
    cfg = load_config(args.config, args.cfg_options)
    add_guard_hooks(cfg)
    drop_switched_off_hooks(cfg)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


#: The default hooks mmengine 0.10.7's Runner knows; ``None`` removes one of them.
MMENGINE_DEFAULT_HOOKS = ('runtime_info', 'timer', 'sampler_seed', 'logger', 'param_scheduler',
                          'checkpoint')


#: ``default_hooks`` entries mmsofteq's tools add to a config without them.
GUARD_HOOKS = dict(run_guard=dict(type='mmsofteq.RunGuardHook'),
                   data_check=dict(type='mmsofteq.DataCheckHook'))


def add_guard_hooks(cfg: Config) -> Config:
    """Add :data:`GUARD_HOOKS` to a config without those keys (in place): mmsofteq's tools keep
    every run's writes and deletions in its work dir, one training per work dir
    (``mmsofteq.RunGuardHook``) and name the file of a bad sample (``mmsofteq.DataCheckHook``).
    Options given without the type (``--cfg-options default_hooks.run_guard.lock=False``) are
    kept. ``default_hooks.<key>=None`` switches one off."""
    hooks = cfg.get('default_hooks', None)
    if hooks is None:
        cfg.default_hooks = hooks = {}
    if isinstance(hooks, dict):
        for key, hook in GUARD_HOOKS.items():
            if key not in hooks:
                hooks[key] = dict(hook)
            elif isinstance(hooks[key], dict) and 'type' not in hooks[key]:
                hooks[key] = {**hook, **hooks[key]}  # options given by --cfg-options only
    return cfg


def drop_switched_off_hooks(cfg: Config) -> Config:
    """Remove ``default_hooks`` entries set to ``None`` that mmengine does not know (in place).

    mmengine asserts on ``default_hooks=dict(finite_check=None)`` (``None`` only removes its
    own defaults); with this, ``None`` switches off any hook, e.g. mmseg's
    ``visualization`` or mmsofteq's ``finite_check``.
    """
    hooks = cfg.get('default_hooks', None)
    if isinstance(hooks, dict):
        for key in [key for key, hook in hooks.items()
                    if hook is None and key not in MMENGINE_DEFAULT_HOOKS]:
            hooks.pop(key)
    return cfg


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """``Config.fromfile(path)`` with ``cfg_options`` merged (:func:`merge_cfg_options`)."""
    return merge_cfg_options(Config.fromfile(path), cfg_options)


def merge_cfg_options(cfg: Config, cfg_options: Optional[dict]) -> Config:
    """Merge ``cfg_options`` into ``cfg`` (in place, returned), ``softeq.*`` into the softeq
    in use (see the module docstring).

    Raises:
        ValueError: ``softeq.*`` options for a config without soft equivariance.
    """
    if not cfg_options:
        return cfg
    _merge_with_softeq(cfg, cfg_options)
    return cfg


#: ``mmengine.config.Config.merge_from_dict`` as mmengine defines it.
_MMENGINE_MERGE = Config.merge_from_dict


def _merge_with_softeq(cfg: Config, options: dict, allow_list_keys: bool = True) -> None:
    """``Config.merge_from_dict``, with ``softeq.*`` keys also merged into the softeq in use."""
    _MMENGINE_MERGE(cfg, options, allow_list_keys)
    softeq_options = {key[len(SOFTEQ_OPTION_PREFIX):]: value for key, value in
                      options.items() if key.startswith(SOFTEQ_OPTION_PREFIX)}
    if not softeq_options:
        return
    place = find_softeq(cfg)
    if place is None:
        raise ValueError(f'--cfg-options {sorted(options)} set softeq keys, but the config has '
                         'no soft equivariance to change')
    container = place.container(cfg)
    in_use = Config(dict(softeq=copy.deepcopy(container['softeq'])))
    _MMENGINE_MERGE(in_use, {f'softeq.{key}': value for key, value in softeq_options.items()},
                    allow_list_keys)
    container['softeq'] = in_use.softeq


def install_softeq_overrides() -> None:
    """Make ``Config.merge_from_dict`` redirect ``softeq.*`` keys (module docstring).
    Idempotent; every other key behaves exactly as in mmengine."""
    Config.merge_from_dict = _merge_with_softeq
