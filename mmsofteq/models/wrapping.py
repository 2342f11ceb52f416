"""Shared plumbing of the wrapper models (``OrbitAveragedModel``, ``CanonicalizedModel``).

A wrapper builds the inner segmentor / classifier with the rules of ``mmsofteq.SoftEqModel``
(the top-level ``data_preprocessor`` unless the inner config sets one; merge leftovers of
``_base_.model`` ignored when equal, any other extra key a ``TypeError``; ``TypeError`` for
anything that is not an mmseg segmentor or mmpretrain classifier) and then **swaps the built
model's class** for a subclass ``(Mixin, BaseClass)`` (:func:`mmsofteq.nn.class_swap.swap_in`,
the engine the re-parameterised modules of :mod:`mmsofteq.nn.reparam` use too). The model keeps
its attributes, its ``isinstance`` relations, its class ``__name__`` and its state-dict keys (a
wrapper adds only its own submodules, e.g. ``canonicalizer.*``); the mixin overrides the few
methods it changes and reaches the base behaviour through ``super()``. The swapped class
pickles and deep-copies (EMA, ``torch.save``).
"""
from __future__ import annotations

from typing import Any, Mapping, Union

import torch
from mmengine.registry import MODELS as ROOT_MODELS
from torch import nn

from ..nn.class_swap import SwappableMixin, class_stack


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


def build_inner_model(wrapper: str, model: Union[Mapping[str, Any], nn.Module],
                      data_preprocessor: Union[Mapping[str, Any], nn.Module, None],
                      merged_base_keys: Mapping[str, Any], usage: str,
                      refuse_wrapped: bool = True, unsupported_hint: str = '') -> nn.Module:
    """Build (or take) the segmentor / classifier a wrapper wraps (``SoftEqModel`` too).

    Args:
        wrapper: the wrapper's registered name, for messages.
        model: config dict of the inner model, or a built model.
        data_preprocessor: the Runner's top-level one (used unless ``model`` sets its own).
        merged_base_keys: keys mmengine merged in from ``_base_.model``.
        usage: the config line to suggest, e.g. ``"model=..., group='C4'"``.
        refuse_wrapped: ``TypeError`` for a model whose class a wrapper already swapped.
        unsupported_hint: appended to the message for a model of an unsupported type.

    Raises:
        TypeError: unexpected keys, a model that is neither a segmentor nor a classifier.
    """
    if isinstance(model, nn.Module):
        if merged_base_keys:
            raise TypeError(f'{wrapper} got unexpected arguments {sorted(merged_base_keys)}')
        inner = model
    elif isinstance(model, Mapping) and 'type' in model:
        conflicts = sorted(key for key, value in merged_base_keys.items()
                           if key not in model or model[key] != value)
        if conflicts:
            raise TypeError(
                f'{wrapper} got unexpected arguments {conflicts}. Settings of the inner model '
                "belong in model=dict(...); if the config inherits `model` from _base_, write "
                f"model=dict(_delete_=True, type='mmsofteq.{wrapper}', {usage})")
        model = dict(model)
        if data_preprocessor is not None:
            model.setdefault('data_preprocessor', data_preprocessor)
        inner = ROOT_MODELS.build(model)
    else:
        raise TypeError(f'{wrapper} needs model=dict(type=..., ...) (a segmentor or '
                        f'classifier config) or a built model, got {model!r}')
    supported = _supported_model_types()
    if not isinstance(inner, supported):
        raise TypeError(
            f'{wrapper} wraps segmentors and classifiers ('
            f"{', '.join(f'{t.__module__}.{t.__qualname__}' for t in supported)}); got "
            f'{_type_name(inner)}.{unsupported_hint}')
    if refuse_wrapped and is_wrapped(inner):
        by = [mixin.__name__ for mixin in class_stack(type(inner))[1]
              if issubclass(mixin, WrapperMixin)]
        raise TypeError(f'{wrapper} cannot wrap a model already wrapped by {by[-1]}')
    return inner


def task_of(model: nn.Module) -> str:
    """``'segmentation'`` (mmseg ``BaseSegmentor``) or ``'classification'``."""
    try:
        from mmseg.models.segmentors import BaseSegmentor
    except ImportError:  # pragma: no cover - mmseg is a dependency
        return 'classification'
    return 'segmentation' if isinstance(model, BaseSegmentor) else 'classification'


def with_sem_seg_labels(sample, labels: torch.Tensor):
    """A clone of an mmseg data sample with ``gt_sem_seg.data = labels``."""
    from mmengine.structures import PixelData
    sample = sample.clone()
    sample.gt_sem_seg = PixelData(data=labels)
    return sample


class WrapperMixin(SwappableMixin):
    """Base of every wrapper mixin (swapped in with :func:`mmsofteq.nn.class_swap.swap_in`)."""


def is_wrapped(module: nn.Module) -> bool:
    return isinstance(module, WrapperMixin)
