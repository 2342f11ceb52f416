"""What a config asks of mmsofteq, and the config without it.

A config asks for soft equivariance in one of three places (mmseg and mmpretrain configs
alike)::

    model = dict(type='mmsofteq.SoftEqModel', model=..., softeq=...)        # 'model'
    default_hooks = dict(softeq=dict(type='mmsofteq.SoftEqHook', softeq=...))  # 'default_hooks'
    custom_hooks = [dict(type='mmsofteq.SoftEqHook', softeq=...)]           # 'custom_hooks'

and for rotated evaluation with ``val_cfg``/``test_cfg = dict(type='mmsofteq.Rotated*Loop')``.
Every tool and every part of mmsofteq that needs to know uses the detectors of this module
(:func:`softeq_of_config`, :func:`is_rotated_loop_config`); :func:`build_model_from_config`
builds the model the Runner would, :func:`plain_config` the config that vanilla mmseg /
mmpretrain run without mmsofteq.
"""
from __future__ import annotations

import contextlib
import copy
import logging
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import init_default_scope
from torch import nn

from ..engine.hooks import FiniteCheckHook, SoftEqHook
from ..engine.runner import RotatedTestLoop, RotatedValLoop
from ..models import build_softeq_model
from ..nn import inject_soft_equivariance

SOFTEQ_PLACES = ('model', 'default_hooks', 'custom_hooks')
HOW_TO_ADD_SOFTEQ = ("model=dict(type='mmsofteq.SoftEqModel', model=..., softeq=...) or "
                     "default_hooks=dict(softeq=dict(type='mmsofteq.SoftEqHook', softeq=...))")


def _names(type_value: Any, obj: Any) -> bool:
    """``type=`` names ``obj``: ``'mmsofteq.<Name>'``, ``'<Name>'`` or the object itself."""
    if type_value is obj:
        return True
    if isinstance(type_value, type) and isinstance(obj, type):
        return issubclass(type_value, obj)
    name = getattr(obj, '__name__', None)
    if obj is build_softeq_model:
        name = 'SoftEqModel'
    return isinstance(type_value, str) and type_value.split('.')[-1] == name


def is_softeq_model_cfg(model_cfg: Any) -> bool:
    """``model_cfg`` builds ``mmsofteq.SoftEqModel``."""
    return isinstance(model_cfg, dict) and _names(model_cfg.get('type'), build_softeq_model)


def is_softeq_hook_cfg(hook_cfg: Any) -> bool:
    """``hook_cfg`` builds ``mmsofteq.SoftEqHook``."""
    return isinstance(hook_cfg, dict) and _names(hook_cfg.get('type'), SoftEqHook)


def is_mmsofteq_hook_cfg(hook_cfg: Any) -> bool:
    """``hook_cfg`` builds a hook of the ``mmsofteq`` scope (``SoftEqHook``,
    ``FiniteCheckHook``)."""
    if not isinstance(hook_cfg, dict):
        return False
    hook_type = hook_cfg.get('type')
    if is_softeq_hook_cfg(hook_cfg) or _names(hook_type, FiniteCheckHook):
        return True
    if isinstance(hook_type, str):
        return hook_type.split('.')[0] == 'mmsofteq'
    return getattr(hook_type, '__module__', '').split('.')[0] == 'mmsofteq'


def config_dicts(node: Any) -> Iterator[dict]:
    """Every dict in a config tree (``node`` itself first, then depth first through dict
    values and list/tuple items): the model, dataset and pipeline dicts a tool edits."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from config_dicts(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from config_dicts(value)


def is_rotated_loop_config(loop_cfg: Any) -> bool:
    """``loop_cfg`` (a ``val_cfg``/``test_cfg`` value) builds a rotated evaluation loop."""
    return isinstance(loop_cfg, dict) and any(
        _names(loop_cfg.get('type'), loop) for loop in (RotatedValLoop, RotatedTestLoop))


@dataclass(frozen=True)
class SoftEqPlace:
    """Where a config's ``softeq`` dict sits: ``where`` in :data:`SOFTEQ_PLACES`, and for
    hooks the key (``default_hooks``) or index (``custom_hooks``) of the hook."""
    where: str
    key: Any = None

    def container(self, cfg: Config) -> dict:
        """The dict holding ``softeq`` (the wrapper's or the hook's config)."""
        if self.where == 'model':
            return cfg.model
        return cfg[self.where][self.key]


def find_softeq(cfg: Config) -> Optional[SoftEqPlace]:
    """The one place of ``cfg`` asking for soft equivariance, or ``None``.

    Raises:
        ValueError: it is asked for more than once (wrapper and hook, or two hooks).
    """
    found = []
    if is_softeq_model_cfg(cfg.get('model')):
        found.append(SoftEqPlace('model'))
    for key, hook in (cfg.get('default_hooks', None) or {}).items():
        if is_softeq_hook_cfg(hook):
            found.append(SoftEqPlace('default_hooks', key))
    for index, hook in enumerate(cfg.get('custom_hooks', None) or []):
        if is_softeq_hook_cfg(hook):
            found.append(SoftEqPlace('custom_hooks', index))
    if len(found) > 1:
        raise ValueError(f'the config asks for soft equivariance {len(found)} times '
                         f'({[place.where for place in found]}); use either the model wrapper '
                         'or one SoftEqHook')
    return found[0] if found else None


def softeq_of_config(cfg: Config) -> tuple[dict, str]:
    """``(softeq dict, where)`` of a config; ``ValueError`` saying how to add one if none."""
    place = find_softeq(cfg)
    if place is None:
        raise ValueError(f'the config has no soft equivariance: expected {HOW_TO_ADD_SOFTEQ}')
    return place.container(cfg)['softeq'], place.where


def with_softeq(cfg: Config, softeq: dict) -> Config:
    """A copy of ``cfg`` whose ``softeq`` (wherever it sits) is ``softeq``.

    A top-level ``softeq`` variable equal to the one in use (configs write
    ``softeq = dict(...)`` and pass it on) is replaced too, so the dumped config reads the
    same everywhere.
    """
    place = find_softeq(cfg)
    if place is None:
        raise ValueError(f'the config has no soft equivariance: expected {HOW_TO_ADD_SOFTEQ}')
    current = place.container(cfg)['softeq']
    out = copy.deepcopy(cfg)
    place.container(out)['softeq'] = copy.deepcopy(softeq)
    top = out.get('softeq', None)
    if isinstance(top, dict) and top == current:
        out.softeq = copy.deepcopy(softeq)
    return out


def _with_data_preprocessor(model_cfg: dict, cfg: Config) -> dict:
    """What the Runner does: the top-level ``data_preprocessor`` fills the model's."""
    model_cfg = copy.deepcopy(model_cfg)
    if cfg.get('data_preprocessor', None) is not None:
        model_cfg.setdefault('data_preprocessor', copy.deepcopy(cfg.data_preprocessor))
    return model_cfg


def build_model_from_config(cfg: Config, quiet: bool = False,
                            require_softeq: bool = True) -> nn.Module:
    """Build ``cfg.model`` as the Runner would, with the config's soft equivariance applied.

    Args:
        cfg: the config.
        quiet: log only warnings while building (the projection report and mmengine's
            INFO messages are not written); for tools that print the report themselves.
        require_softeq: refuse a config without soft equivariance (``False``: build it as
            it is, for checks that apply to any model).

    Raises:
        ValueError: the config has no soft equivariance and ``require_softeq`` (or has it
            twice).
    """
    if find_softeq(cfg) is None and not require_softeq:
        softeq, where = None, 'model'
    else:
        softeq, where = softeq_of_config(cfg)
    if cfg.get('default_scope', None) is not None:
        init_default_scope(cfg.default_scope)
    with quiet_logging(quiet):
        model = ROOT_MODELS.build(_with_data_preprocessor(cfg.model, cfg))
        if where != 'model':
            inject_soft_equivariance(model, softeq)
    return model


@contextlib.contextmanager
def quiet_logging(enabled: bool = True) -> Iterator[None]:
    """Within the block the current mmengine logger writes warnings and errors only."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    if enabled:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def plain_model_config(cfg: Config) -> dict:
    """The base model's config (the wrapper's inner ``model``, else ``cfg.model``)."""
    model = cfg.model
    if is_softeq_model_cfg(model):
        model = model['model']
    return _with_data_preprocessor(model, cfg)


#: What vanilla mmseg / mmpretrain run in place of each mmsofteq evaluation component.
PLAIN_LOOPS = {'RotatedValLoop': 'ValLoop', 'RotatedTestLoop': 'TestLoop'}


def _plain_evaluator(evaluator: Any) -> Any:
    """``evaluator`` with mmsofteq's rotated metrics replaced by mmseg's ``IoUMetric`` /
    mmpretrain's ``Accuracy`` (same ``ignore_index``/``nan_to_num`` / ``topk``)."""
    if isinstance(evaluator, (list, tuple)):
        return [_plain_evaluator(metric) for metric in evaluator]
    if not isinstance(evaluator, dict):
        return evaluator
    name = str(evaluator.get('type', '')).split('.')[-1]
    if name == 'RotatedIoUMetric':
        return dict(type='mmseg.IoUMetric', iou_metrics=['mIoU'],
                    ignore_index=evaluator.get('ignore_index', 255),
                    nan_to_num=evaluator.get('nan_to_num', None))
    if name == 'RotatedAccuracy':
        return dict(type='mmpretrain.Accuracy', topk=evaluator.get('topk', (1, )))
    return evaluator


def plain_config(cfg: Config) -> Config:
    """``cfg`` without mmsofteq: the base model, no mmsofteq hooks, plain ``ValLoop`` /
    ``TestLoop`` and mmseg / mmpretrain metrics, no ``mmsofteq`` import.

    Vanilla mmseg / mmpretrain tools run it on a checkpoint written by
    ``tools/export_checkpoint.py`` (tested in a process that never imports mmsofteq).
    """
    plain = copy.deepcopy(cfg)
    for key in ('val_cfg', 'test_cfg'):
        loop = plain.get(key, None)
        if is_rotated_loop_config(loop):
            name = loop['type'] if isinstance(loop['type'], str) else loop['type'].__name__
            plain[key] = dict(type=PLAIN_LOOPS[name.split('.')[-1]])
    for key in ('val_evaluator', 'test_evaluator'):
        if plain.get(key, None) is not None:
            plain[key] = _plain_evaluator(plain[key])
    plain.model = plain_model_config(cfg)
    if 'custom_hooks' in plain:
        plain.custom_hooks = [hook for hook in plain.custom_hooks or []
                              if not is_mmsofteq_hook_cfg(hook)]
    default_hooks = plain.get('default_hooks', None)
    if default_hooks:
        plain.default_hooks = {key: hook for key, hook in default_hooks.items()
                               if not is_mmsofteq_hook_cfg(hook)}
    imports: Optional[dict] = plain.get('custom_imports', None)
    if imports is not None:
        modules = imports.get('imports', [])
        modules = [modules] if isinstance(modules, str) else list(modules)
        kept = [name for name in modules if name.split('.')[0] != 'mmsofteq']
        if kept:
            plain.custom_imports = dict(imports, imports=kept)
        else:
            plain.pop('custom_imports')
    return plain
