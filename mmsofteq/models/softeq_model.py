"""``mmsofteq.SoftEqModel``: build a segmentor / classifier and make it softly equivariant.

Registered in the ``mmsofteq`` MODELS registry under the name ``SoftEqModel``; it is a builder,
not a wrapper module: it returns **the built inner model itself** after injecting the
projections, so the model's class, attributes and state-dict keys are exactly those of the base
model (no ``architecture.``-style prefix; plain checkpoints load in both directions)::

    model = dict(type='mmsofteq.SoftEqModel', model=_base_.model,
                 softeq=dict(group='C8', softness=0.95))

Written inside a config that inherits ``model`` from ``_base_``, mmengine merges the new dict
into the base one, so the call also receives the base model's own keys (``backbone``,
``decode_head``, ...). Keys whose value equals the inner config's are those merge leftovers and
are ignored (``_delete_=True`` avoids them); any other extra key is an error.
"""
from __future__ import annotations

from typing import Any, Mapping, Union

from mmengine.registry import MODELS as ROOT_MODELS
from torch import nn

from ..nn import SoftEqConfig, inject_soft_equivariance
from ..registry import MODELS


def _supported_model_types() -> tuple[type, ...]:
    """Segmentor and classifier base classes of the installed OpenMMLab codebases."""
    types = []
    try:
        from mmseg.models.segmentors import BaseSegmentor
        types.append(BaseSegmentor)
    except ImportError:  # pragma: no cover - mmseg is a dependency
        pass
    try:
        from mmpretrain.models.classifiers import BaseClassifier
        types.append(BaseClassifier)
    except ImportError:  # pragma: no cover - mmpretrain is a dependency
        pass
    return tuple(types)


def _type_name(model: Union[Mapping, nn.Module]) -> str:
    if isinstance(model, nn.Module):
        return f'{type(model).__module__}.{type(model).__qualname__}'
    return repr(model.get('type'))


def build_softeq_model(model: Union[Mapping[str, Any], nn.Module],
                       softeq: Mapping[str, Any],
                       data_preprocessor: Union[Mapping[str, Any], nn.Module, None] = None,
                       **merged_base_keys: Any) -> nn.Module:
    """Build ``model`` (a segmentor or classifier config), inject ``softeq``, return it.

    Args:
        model: config of an mmseg segmentor or mmpretrain classifier (built with the current
            default scope), or such a model already built.
        softeq: the soft-equivariance settings (``mmsofteq.nn.SoftEqConfig``).
        data_preprocessor: set by the Runner from the top-level ``data_preprocessor``; used
            as the inner model's ``data_preprocessor`` unless that one sets its own.
        **merged_base_keys: keys mmengine merged in from ``_base_.model``; each must equal
            the inner config's value.

    Raises:
        ValueError: bad ``softeq`` (checked before anything is built).
        TypeError: the model is not a segmentor/classifier, or unexpected keys.
    """
    config = SoftEqConfig.from_dict(softeq)
    if isinstance(model, nn.Module):
        if merged_base_keys:
            raise TypeError(f'SoftEqModel got unexpected arguments {sorted(merged_base_keys)}')
        inner = model
    elif isinstance(model, Mapping) and 'type' in model:
        conflicts = sorted(key for key, value in merged_base_keys.items()
                           if key not in model or model[key] != value)
        if conflicts:
            raise TypeError(
                f'SoftEqModel got unexpected arguments {conflicts}. Settings of the inner model '
                "belong in model=dict(...); if the config inherits `model` from _base_, write "
                "model=dict(_delete_=True, type='mmsofteq.SoftEqModel', model=..., softeq=...)")
        model = dict(model)
        if data_preprocessor is not None:
            model.setdefault('data_preprocessor', data_preprocessor)
        inner = ROOT_MODELS.build(model)
    else:
        raise TypeError(f"SoftEqModel needs model=dict(type=..., ...) (a segmentor or "
                        f"classifier config) or a built model, got {model!r}")

    supported = _supported_model_types()
    if not isinstance(inner, supported):
        raise TypeError(
            f'SoftEqModel wraps segmentors and classifiers ('
            f"{', '.join(f'{t.__module__}.{t.__qualname__}' for t in supported)}); got "
            f'{_type_name(inner)}. To make a bare backbone softly equivariant call '
            'mmsofteq.nn.inject_soft_equivariance(backbone, softeq) or use '
            "custom_hooks=[dict(type='mmsofteq.SoftEqHook', softeq=...)].")
    inject_soft_equivariance(inner, config)
    return inner


MODELS.register_module(name='SoftEqModel', module=build_softeq_model)
