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
are ignored (``_delete_=True`` avoids them); any other extra key is an error, except the ones
the ecosystem's inference APIs set on ``cfg.model`` (:data:`INNER_OVERRIDES`: mmseg's
``init_model`` sets ``train_cfg=None`` and ``pretrained=None``), which go to the inner model.
"""
from __future__ import annotations

from typing import Any, Mapping, Union

from torch import nn

from ..nn import SoftEqConfig, inject_soft_equivariance
from ..registry import MODELS
from .wrapping import build_inner_model


#: Keys that mmseg/mmpretrain inference APIs set on ``cfg.model``; applied to the inner model.
INNER_OVERRIDES = ('train_cfg', 'test_cfg', 'pretrained')


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
    if isinstance(model, Mapping):
        overrides = {key: merged_base_keys.pop(key) for key in INNER_OVERRIDES
                     if key in merged_base_keys}
        model = dict(model, **{key: value for key, value in overrides.items()
                               if key in model or value is not None})
    inner = build_inner_model(
        'SoftEqModel', model, data_preprocessor, merged_base_keys,
        usage='model=..., softeq=...', refuse_wrapped=False,
        unsupported_hint=' To make a bare backbone softly equivariant call '
        'mmsofteq.nn.inject_soft_equivariance(backbone, softeq) or use '
        "custom_hooks=[dict(type='mmsofteq.SoftEqHook', softeq=...)].")
    inject_soft_equivariance(inner, config)
    return inner


MODELS.register_module(name='SoftEqModel', module=build_softeq_model)
