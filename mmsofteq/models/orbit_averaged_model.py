"""``mmsofteq.OrbitAveragedModel``: equivarification by averaging over a finite group's orbit.

Registered in the ``mmsofteq`` MODELS registry; config-only, like ``mmsofteq.SoftEqModel``::

    model = dict(type='mmsofteq.OrbitAveragedModel', model=_base_.model, group='C4',
                 combine='mean_logits', train_augment=False)

It builds the inner mmseg segmentor or mmpretrain classifier and swaps its class
(:mod:`.wrapping`): same class name, same state-dict keys (plain checkpoints load in both
directions), same ``data_preprocessor``. At prediction time (``mode='predict'``: val, test,
the rotated pass) every group element ``g`` (:mod:`.group_actions`) is applied to the
pre-processed input and the outputs are combined:

* classifier: ``s(x) = mean_g z(g·x)`` with ``z`` the logits (``mode='tensor'`` of the
  classifier) for ``combine='mean_logits'``; ``log mean_g softmax z(g·x)`` for ``'mean_probs'``
  (its softmax is the mean probability); then the head's own post-processing
  (``pred_score = softmax s``). For any group, ``s(h·x) = s(x)`` up to float rounding
  (the sum runs over the same terms in another order) when ``h·x`` is exact, i.e. for exact
  groups on square inputs.
* segmentor: ``s(x) = Σ_g v_g ⊙ φ(g⁻¹·z(g·x)) / Σ_g v_g`` with ``z`` the logits of
  ``encode_decode`` (so whole and slide inference both average, per crop in slide mode),
  ``φ`` = identity (``mean_logits``) or softmax (``mean_probs``, returned as ``log``; sigmoid
  for one output channel) and ``v_g`` the valid mask of ``g⁻¹`` (pixels of ``g⁻¹·z`` sampled
  from inside the view; all ones for exact groups on square inputs). So a pixel is averaged
  over the elements for which it has a prediction; the identity always has one. Exact
  groups give ``s(h·x) = h·s(x)`` for every ``h`` in the group (tested ≤ 1e-5); groups with
  other rotations (``C8``) rotate bilinearly and are equivariant only approximately. The
  input of a non-90° element is the bilinearly rotated image with zero-filled corners.

Exact groups with a quarter turn need square inputs (``ValueError`` otherwise; for a
segmentor on non-square images use slide inference on square crops). ``mode='tensor'`` is the
wrapped model's raw forward (no averaging); ``mode='loss'`` trains the wrapped model as is or,
with ``train_augment=True``, on ``g·x`` (and ``g·labels`` for segmentation, nearest, fill
``ignore_index``) for one uniformly random ``g`` per batch. Inference costs ``|G|`` forwards.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

from ..nn.class_swap import swap_in
from ..registry import MODELS
from .group_actions import FiniteGroup, evaluation_angle_warning, finite_group
from .wrapping import WrapperMixin, build_inner_model, task_of, with_sem_seg_labels

COMBINE_MODES = ('mean_logits', 'mean_probs')
NAME = 'OrbitAveragedModel'
_PROBABILITY_FLOOR = 1e-12


@dataclass(frozen=True)
class OrbitAveraging:
    """Validated settings of the wrapper (see the module docstring)."""

    group: FiniteGroup
    combine: str = 'mean_logits'
    train_augment: bool = False

    @classmethod
    def from_keys(cls, group: Any, combine: Any, train_augment: Any) -> 'OrbitAveraging':
        if not isinstance(group, str):
            raise ValueError(f'{NAME}.group must be a string such as \'C4\', got {group!r}')
        if combine not in COMBINE_MODES:
            raise ValueError(f'{NAME}.combine must be one of {COMBINE_MODES}, got {combine!r}')
        if not isinstance(train_augment, bool):
            raise ValueError(f'{NAME}.train_augment must be True or False, got '
                             f'{train_augment!r}')
        return cls(finite_group(group, who=NAME), combine, train_augment)


def _probabilities(logits: torch.Tensor) -> torch.Tensor:
    """Softmax over dim 1, or sigmoid for a single channel."""
    return torch.sigmoid(logits) if logits.shape[1] == 1 else F.softmax(logits, dim=1)


def _as_logits(probabilities: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`_probabilities` up to a per-pixel constant (``log`` / ``logit``)."""
    p = probabilities.clamp_min(_PROBABILITY_FLOOR)
    if probabilities.shape[1] == 1:
        return torch.log(p) - torch.log((1 - probabilities).clamp_min(_PROBABILITY_FLOOR))
    return torch.log(p)


class _OrbitAveragedMixin(WrapperMixin):
    """Shared by both tasks: ``orbit_averaging`` (:class:`OrbitAveraging`) is set on the
    instance when the class is swapped."""

    orbit_averaging: OrbitAveraging

    def _combine(self, outputs: List[torch.Tensor],
                 masks: Optional[List[torch.Tensor]] = None) -> torch.Tensor:
        """Mean (masked when ``masks``) of the logits or probabilities, as logits; computed in
        at least float32 (half-precision probabilities would underflow in the ``log``) and
        returned in the outputs' dtype."""
        dtype = outputs[0].dtype
        work = torch.promote_types(dtype, torch.float32)
        probs = self.orbit_averaging.combine == 'mean_probs'
        values = [_probabilities(out.to(work)) if probs else out.to(work) for out in outputs]
        if masks is None:
            mean = torch.stack(values).mean(0)
        else:
            masks = [mask.to(work) for mask in masks]
            total = sum(value * mask for value, mask in zip(values, masks))
            mean = total / sum(masks)
        return (_as_logits(mean) if probs else mean).to(dtype)

    def _random_element(self) -> int:
        """A uniformly random element index (torch's global generator: seeded runs repeat)."""
        return int(torch.randint(len(self.orbit_averaging.group), (1, )))

    def check_evaluation_angles(self, angles: Any) -> Optional[str]:
        """Warn (and return the text) when ``angles`` (a rotated loop's angle config or
        ``AngleSampler``) leave the group; ``None`` when every angle is a group rotation."""
        message = evaluation_angle_warning(self.orbit_averaging.group, angles, NAME)
        if message is not None:
            warnings.warn(message, stacklevel=2)
        return message

    def extra_repr(self) -> str:
        settings = self.orbit_averaging
        text = (f'orbit averaging: group={settings.group.name}, combine={settings.combine}, '
                f'train_augment={settings.train_augment}')
        base = super().extra_repr()
        return f'{base}, {text}' if base else text


class OrbitAveragedSegmentor(_OrbitAveragedMixin):
    """Mixin of an mmseg segmentor: ``encode_decode`` averaged, ``loss`` optionally
    augmented."""

    def encode_decode(self, inputs: torch.Tensor, batch_img_metas: List[dict]) -> torch.Tensor:
        """``(B, K, H, W)`` orbit-averaged logits of ``inputs`` ``(B, C, H, W)``."""
        group = self.orbit_averaging.group
        group.check_field_shape(inputs.shape, NAME)
        outputs, masks = [], []
        for index in range(len(group)):
            logits = super().encode_decode(group.act(inputs, index), batch_img_metas)
            outputs.append(group.act_inverse(logits, index))
            masks.append(group.inverse_valid_mask(logits.shape, index, logits.device))
        exact = all(bool(mask.all()) for mask in masks)
        return self._combine(outputs, None if exact else masks)

    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict:
        if self.training and self.orbit_averaging.train_augment:
            group = self.orbit_averaging.group
            group.check_field_shape(inputs.shape, NAME)
            index = self._random_element()
            ignore_index = int(getattr(self.decode_head, 'ignore_index', 255))
            inputs = group.act(inputs, index)
            data_samples = [with_sem_seg_labels(sample, group.act_on_labels(
                sample.gt_sem_seg.data, index, ignore_index)) for sample in data_samples]
        return super().loss(inputs, data_samples)


class OrbitAveragedClassifier(_OrbitAveragedMixin):
    """Mixin of an mmpretrain classifier: ``predict`` averaged, ``loss`` optionally
    augmented."""

    def predict(self, inputs: torch.Tensor, data_samples: Optional[list] = None, **kwargs):
        group = self.orbit_averaging.group
        group.check_field_shape(inputs.shape, NAME)
        forward = super().forward  # (a comprehension has no zero-argument super())
        outputs = [classifier_logits(forward, group.act(inputs, index))
                   for index in range(len(group))]
        return classifier_predictions(self, self._combine(outputs), data_samples)

    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict:
        if self.training and self.orbit_averaging.train_augment:
            group = self.orbit_averaging.group
            group.check_field_shape(inputs.shape, NAME)
            inputs = group.act(inputs, self._random_element())
        return super().loss(inputs, data_samples)


def classifier_logits(forward, inputs: torch.Tensor) -> torch.Tensor:
    """``(B, num_classes)`` logits of an mmpretrain classifier (its ``mode='tensor'``)."""
    logits = forward(inputs, mode='tensor')
    if isinstance(logits, (tuple, list)) and len(logits) == 1:
        logits = logits[0]
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
        raise TypeError(f"{NAME} needs the classifier's mode='tensor' forward to return "
                        f'(B, num_classes) logits (a classifier with a head); got '
                        f'{type(logits).__name__}')
    return logits


def classifier_predictions(model: nn.Module, logits: torch.Tensor,
                           data_samples: Optional[list]) -> list:
    """The classifier's own post-processing of ``logits`` (``pred_score``, ``pred_label``)."""
    head = getattr(model, 'head', None)
    if head is not None and hasattr(head, '_get_predictions'):
        return head._get_predictions(logits, data_samples)
    if hasattr(model, '_get_predictions'):
        return model._get_predictions(logits, data_samples)
    raise TypeError(f'{type(model).__name__} has no _get_predictions (head or classifier) to '
                    'turn averaged logits into predictions')


def build_orbit_averaged_model(model: Union[Mapping[str, Any], nn.Module, None] = None,
                               group: str = 'C4',
                               combine: str = 'mean_logits',
                               train_augment: bool = False,
                               data_preprocessor: Union[Mapping[str, Any], nn.Module,
                                                        None] = None,
                               module: Union[Mapping[str, Any], nn.Module, None] = None,
                               **merged_base_keys: Any) -> nn.Module:
    """Build ``model`` (a segmentor or classifier config) and make its predictions the
    orbit average over ``group`` (module docstring).

    Args:
        model: config of an mmseg segmentor or mmpretrain classifier, or such a model built.
        group: ``'C<n>'`` or ``'D<n>'``.
        combine: ``'mean_logits'`` or ``'mean_probs'``.
        train_augment: train on ``g·x`` for one random ``g`` per batch.
        data_preprocessor: set by the Runner from the top-level ``data_preprocessor``.
        module: the same as ``model``, under the key mmseg's and mmpretrain's
            ``tools/test.py --tta`` give a ``tta_model`` (``cfg.tta_model.module =
            cfg.model``), so ``tta_model = dict(type='mmsofteq.OrbitAveragedModel',
            group='C4', combine='mean_probs')`` is rotation test-time augmentation.
        **merged_base_keys: keys mmengine merged in from ``_base_.model`` (must be equal).

    Raises:
        ValueError: an unsupported group (the message lists the allowed ones), bad
            ``combine``/``train_augment`` (checked before anything is built).
        TypeError: the model is not a segmentor/classifier, or unexpected keys.
    """
    if (model is None) == (module is None):
        raise TypeError(f'{NAME} needs the model to wrap as model=dict(...) (a config\'s '
                        'model) or module=dict(...) (what tools/test.py --tta sets in '
                        'tta_model), exactly one of them')
    model = model if module is None else module
    settings = OrbitAveraging.from_keys(group, combine, train_augment)
    inner = build_inner_model(NAME, model, data_preprocessor, merged_base_keys,
                              usage="model=..., group='C4'")
    mixin = (OrbitAveragedSegmentor if task_of(inner) == 'segmentation' else
             OrbitAveragedClassifier)
    swap_in(inner, mixin)
    inner.orbit_averaging = settings
    return inner


MODELS.register_module(name=NAME, module=build_orbit_averaged_model)
