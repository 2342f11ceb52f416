"""From a training config to the soft-equivariant model, and back to a plain config.

A config asks for soft equivariance in one of two ways (both from mmseg or mmpretrain configs):
``model=dict(type='mmsofteq.SoftEqModel', model=..., softeq=...)`` or
``custom_hooks=[dict(type='mmsofteq.SoftEqHook', softeq=...)]``. The tools
(``tools/export_checkpoint.py``, ``tools/print_projection_report.py``) use these helpers so that
both ways give the same model.
"""
from __future__ import annotations

import copy
from typing import Any, Optional

from mmengine.config import Config
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import init_default_scope
from torch import nn

from ..nn import inject_soft_equivariance
from .softeq_model import build_softeq_model

MODEL_TYPE = 'SoftEqModel'
HOOK_TYPE = 'SoftEqHook'


def _is(type_value: Any, name: str, obj: Any) -> bool:
    """``type=`` names ``obj`` (``'mmsofteq.<name>'``, ``'<name>'`` or the object itself)."""
    if type_value is obj:
        return True
    return isinstance(type_value, str) and type_value.split('.')[-1] == name


def is_softeq_model_cfg(model_cfg: Any) -> bool:
    return isinstance(model_cfg, dict) and _is(model_cfg.get('type'), MODEL_TYPE,
                                               build_softeq_model)


def _is_softeq_hook_cfg(hook_cfg: Any) -> bool:
    from ..engine.hooks import SoftEqHook
    return isinstance(hook_cfg, dict) and _is(hook_cfg.get('type'), HOOK_TYPE, SoftEqHook)


def softeq_of_config(cfg: Config) -> tuple[dict, str]:
    """``(softeq dict, 'model' | 'hook')`` of a config; ``ValueError`` if it has none."""
    found = []
    if is_softeq_model_cfg(cfg.get('model')):
        found.append((cfg.model['softeq'], 'model'))
    found += [(hook['softeq'], 'hook') for hook in cfg.get('custom_hooks', None) or []
              if _is_softeq_hook_cfg(hook)]
    if not found:
        raise ValueError("the config has no soft equivariance: expected model=dict(type="
                         "'mmsofteq.SoftEqModel', model=..., softeq=...) or custom_hooks=["
                         "dict(type='mmsofteq.SoftEqHook', softeq=...)]")
    if len(found) > 1:
        raise ValueError(f'the config asks for soft equivariance {len(found)} times '
                         f'({[where for _, where in found]}); use either the model wrapper or '
                         'one SoftEqHook')
    return found[0]


def _with_data_preprocessor(model_cfg: dict, cfg: Config) -> dict:
    """What the Runner does: the top-level ``data_preprocessor`` fills the model's."""
    model_cfg = copy.deepcopy(model_cfg)
    if cfg.get('data_preprocessor', None) is not None:
        model_cfg.setdefault('data_preprocessor', copy.deepcopy(cfg.data_preprocessor))
    return model_cfg


def build_model_from_config(cfg: Config) -> nn.Module:
    """Build ``cfg.model`` as the Runner would, with the config's soft equivariance applied
    (the projection report goes to the current mmengine logger)."""
    softeq, where = softeq_of_config(cfg)
    if cfg.get('default_scope', None) is not None:
        init_default_scope(cfg.default_scope)
    model = ROOT_MODELS.build(_with_data_preprocessor(cfg.model, cfg))
    if where == 'hook':
        inject_soft_equivariance(model, softeq)
    return model


def plain_model_config(cfg: Config) -> dict:
    """The base model's config (the wrapper's inner ``model``, else ``cfg.model``)."""
    model = cfg.model
    if is_softeq_model_cfg(model):
        model = model['model']
    return _with_data_preprocessor(model, cfg)


def plain_config(cfg: Config) -> Config:
    """``cfg`` without mmsofteq: the base model, no ``SoftEqHook``, no ``mmsofteq`` import.

    Vanilla mmseg / mmpretrain tools run it on a checkpoint written by
    ``tools/export_checkpoint.py``.
    """
    plain = copy.deepcopy(cfg)
    plain.model = plain_model_config(cfg)
    hooks = [hook for hook in plain.get('custom_hooks', None) or []
             if not _is_softeq_hook_cfg(hook)]
    if 'custom_hooks' in plain:
        plain.custom_hooks = hooks
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
