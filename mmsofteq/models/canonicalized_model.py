"""``mmsofteq.CanonicalizedModel`` (Canon.): a learned canonicaliser in front of a pretrained model.

The "Canon." baseline of the paper (Kaba et al. 2023; Mondal et al. 2023, the ``equiadapt``
package), config-only like ``mmsofteq.SoftEqModel``::

    model = dict(type='mmsofteq.CanonicalizedModel', model=_base_.model,
                 canonicalizer=dict(group='C4', input_size=64), prior_weight=1.0)

**Canonicaliser** (:class:`GroupCanonicalizer`): the input (pre-processed, ``(B, C, H, W)``)
is resized to ``input_size²`` (bilinear, antialiased) and fed to a :class:`~.backbones.GCNN`
with regular outputs ``f (B, C', |G|, h, w)``; the scores of the group elements are

    s(x)[g] = Σ_c w_c mean_p f[c, g, p]                     (B, |G|)

so ``s(T_h x)[g] = s(x)[h⁻¹ g]`` and the predicted element ``ĝ(x) = argmax_g s(x)[g]``
satisfies ``ĝ(T_h x) = h ĝ(x)``. Groups: the exact ones only (``C1, C2, C4, D1, D2, D4``; a
C8 canonicaliser would need rotated filters that a pixel grid cannot hold exactly, so
``'C8'`` is a ``ValueError``). The canonicaliser starts from random init (no checkpoint holds
one); the wrapped model keeps its pretrained weights.

**Prediction** (eval): ``x̂ = ĝ(x)⁻¹·x``; classifiers predict ``f(x̂)`` — exactly invariant,
``f(ĝ(T_h x)⁻¹ T_h x) = f(ĝ(x)⁻¹ x)`` bit for bit on square inputs whenever the argmax has no
tie (the first maximum wins); segmentors return ``ĝ·z(x̂)`` (logits of ``inference``, whole or
slide, rotated back), equivariant the same way. Elements act by
:func:`mmsofteq.utils.rotate_field` (``torch.rot90`` on square inputs; a quarter turn of a
non-square input is resampled inside its frame, losing the corners, as equiadapt's rotation
does; rotated-back logits read 0 there).

**Training** (``mode='loss'``): the task loss of ``f`` on the canonicalised input plus
``prior_weight · CE(s(x), identity)`` (key ``loss_prior``: upright training images should map
to the identity, equiadapt's prior regulariser with weight ``beta``). Gradients reach the
canonicaliser through a **straight-through estimator** over the orbit: with
``p = softmax s(x)`` and ``y = onehot(argmax p) + p − stopgrad(p)``,

    x̂ = Σ_g y_g · g⁻¹·x,

whose value is exactly the hard ``ĝ⁻¹·x`` (the ``p − p`` terms are exact zeros) and whose
gradient is ``∂L/∂p_g = ⟨∂L/∂x̂, g⁻¹·x⟩``. Segmentation labels are transformed by the hard
``ĝ⁻¹`` (nearest, fill ``ignore_index``). ``canon_identity_rate`` (the share of the batch
mapped to the identity) is logged next to the losses. ``mode='tensor'`` is the wrapped model's
raw forward (no canonicalisation).

State-dict keys: ``canonicalizer.*`` plus the wrapped model's keys unchanged, so a base
checkpoint (``load_from``, ``init_cfg=dict(type='Pretrained')``) loads with only the
canonicaliser's keys missing.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from ..nn.class_swap import swap_in
from ..registry import MODELS
from .backbones import GCNN
from .group_actions import FiniteGroup, evaluation_angle_warning, finite_group
from .wrapping import WrapperMixin, build_inner_model, task_of, with_sem_seg_labels

NAME = 'CanonicalizedModel'


class GroupCanonicalizer(BaseModule):
    """Scores ``(B, |G|)`` of the group elements for ``(B, C, H, W)`` inputs (module docstring).

    Args:
        group: an exact group (``'C4'`` default, ``'D4'``, ``'C2'``, ...).
        in_channels: input channels (3 for RGB).
        input_size: side of the square the input is resized to (``None``: as is).
        stem_channels, stem_kernel_size, stage_channels, convs_per_stage, kernel_size:
            the :class:`~.backbones.GCNN` (regular outputs of its last stage).
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 group: str = 'C4',
                 in_channels: int = 3,
                 input_size: Optional[int] = 64,
                 stem_channels: int = 8,
                 stem_kernel_size: int = 5,
                 stage_channels: Tuple[int, ...] = (8, 16, 32),
                 convs_per_stage: int = 1,
                 kernel_size: int = 3,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.group = finite_group(group, exact=True, who=f'{NAME}.canonicalizer')
        if input_size is not None and (isinstance(input_size, bool) or
                                       not isinstance(input_size, int) or input_size < 1):
            raise ValueError(f'{NAME}.canonicalizer.input_size must be a positive int or None, '
                             f'got {input_size!r}')
        self.input_size = input_size
        self.network = GCNN(group=group, in_channels=in_channels, stem_channels=stem_channels,
                            stem_kernel_size=stem_kernel_size, stage_channels=stage_channels,
                            convs_per_stage=convs_per_stage, kernel_size=kernel_size,
                            out_type='regular')
        width = self.network.out_channels
        self.score_weight = nn.Parameter(torch.randn(width) / math.sqrt(width))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.input_size is not None and tuple(inputs.shape[-2:]) != (self.input_size, ) * 2:
            inputs = F.interpolate(inputs, size=(self.input_size, self.input_size),
                                   mode='bilinear', align_corners=False, antialias=True)
        features = self.network(inputs)[-1]                    # (B, C', |G|, h, w)
        return torch.einsum('bcg,c->bg', features.mean(dim=(-2, -1)), self.score_weight)


@dataclass
class Canonicalization:
    """What :meth:`canonicalize` found for a batch.

    Attributes:
        inputs: ``(B, C, H, W)`` canonicalised inputs ``ĝ⁻¹·x`` (straight-through in training).
        elements: ``(B,)`` long, index of ``ĝ`` per sample.
        scores: ``(B, |G|)`` canonicaliser scores.
    """

    inputs: torch.Tensor
    elements: torch.Tensor
    scores: torch.Tensor


@dataclass(frozen=True)
class CanonSettings:
    prior_weight: float = 1.0

    @classmethod
    def from_keys(cls, prior_weight: Any) -> 'CanonSettings':
        if isinstance(prior_weight, bool) or not isinstance(prior_weight, (int, float)) or \
                not math.isfinite(prior_weight) or prior_weight < 0:
            raise ValueError(f'{NAME}.prior_weight must be a finite float >= 0, got '
                             f'{prior_weight!r}')
        return cls(float(prior_weight))


class _CanonicalizedMixin(WrapperMixin):
    """Shared by both tasks; ``canonicalizer`` (a submodule) and ``canon_settings`` are set on
    the instance when the class is swapped."""

    canonicalizer: GroupCanonicalizer
    canon_settings: CanonSettings

    @property
    def canonical_group(self) -> FiniteGroup:
        return self.canonicalizer.group

    def canonicalize(self, inputs: torch.Tensor) -> Canonicalization:
        """``ĝ(x)⁻¹·x`` per sample: straight-through orbit mixture when training with
        autograd, hard per-sample transform otherwise (module docstring)."""
        group = self.canonical_group
        scores = self.canonicalizer(inputs)
        elements = scores.argmax(dim=1)
        if self.training and torch.is_grad_enabled():
            probabilities = F.softmax(scores, dim=1)
            # onehot + (p - p): the bracket is an exact zero, so the weights are exactly 0/1
            weights = (F.one_hot(elements, len(group)).to(probabilities.dtype) +
                       (probabilities - probabilities.detach()))
            orbit = torch.stack([group.act_inverse(inputs, g) for g in range(len(group))], 1)
            canonical = (weights.to(inputs.dtype)[:, :, None, None, None] * orbit).sum(1)
        else:
            canonical = torch.stack([group.act_inverse(image, int(g))
                                     for image, g in zip(inputs, elements)])
        return Canonicalization(canonical, elements, scores)

    def _canon_losses(self, canonical: Canonicalization) -> dict:
        identity = torch.zeros_like(canonical.elements)
        prior = F.cross_entropy(canonical.scores, identity)
        return dict(loss_prior=self.canon_settings.prior_weight * prior,
                    canon_identity_rate=(canonical.elements == 0).float().mean().detach())

    def check_evaluation_angles(self, angles: Any) -> Optional[str]:
        """Warn (and return the text) when ``angles`` (a rotated loop's angle config or
        ``AngleSampler``) hold rotations outside the canonicaliser's group; ``None`` when
        every angle is a group rotation."""
        message = evaluation_angle_warning(self.canonical_group, angles, NAME)
        if message is not None:
            warnings.warn(message, stacklevel=2)
        return message

    def extra_repr(self) -> str:
        text = (f'canonicalized: group={self.canonical_group.name}, '
                f'prior_weight={self.canon_settings.prior_weight:g}')
        base = super().extra_repr()
        return f'{base}, {text}' if base else text


class CanonicalizedSegmentor(_CanonicalizedMixin):
    """Mixin of an mmseg segmentor: ``inference`` and ``loss`` canonicalised."""

    def inference(self, inputs: torch.Tensor, batch_img_metas: List[dict]) -> torch.Tensor:
        """``ĝ·z(ĝ⁻¹·x)`` per sample, ``(B, K, H, W)``."""
        group = self.canonical_group
        canonical = self.canonicalize(inputs)
        logits = super().inference(canonical.inputs, batch_img_metas)
        return torch.stack([group.act(item, int(g))
                            for item, g in zip(logits, canonical.elements)])

    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict:
        group = self.canonical_group
        canonical = self.canonicalize(inputs)
        ignore_index = int(getattr(self.decode_head, 'ignore_index', 255))
        data_samples = [
            with_sem_seg_labels(sample, group.act_on_labels(sample.gt_sem_seg.data, int(g),
                                                     ignore_index, inverse=True))
            for sample, g in zip(data_samples, canonical.elements)]
        losses = super().loss(canonical.inputs, data_samples)
        losses.update(self._canon_losses(canonical))
        return losses


class CanonicalizedClassifier(_CanonicalizedMixin):
    """Mixin of an mmpretrain classifier: ``predict`` and ``loss`` canonicalised."""

    def predict(self, inputs: torch.Tensor, data_samples: Optional[list] = None, **kwargs):
        return super().predict(self.canonicalize(inputs).inputs, data_samples, **kwargs)

    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict:
        canonical = self.canonicalize(inputs)
        losses = super().loss(canonical.inputs, data_samples)
        losses.update(self._canon_losses(canonical))
        return losses


def build_canonicalized_model(model: Union[Mapping[str, Any], nn.Module],
                              canonicalizer: Optional[Mapping[str, Any]] = None,
                              prior_weight: float = 1.0,
                              data_preprocessor: Union[Mapping[str, Any], nn.Module,
                                                       None] = None,
                              **merged_base_keys: Any) -> nn.Module:
    """Build ``model`` (a segmentor or classifier config) behind a canonicaliser.

    Args:
        model: config of an mmseg segmentor or mmpretrain classifier, or such a model built.
        canonicalizer: keyword arguments of :class:`GroupCanonicalizer` (default:
            ``dict(group='C4')``).
        prior_weight: weight of the canonicalisation prior loss (``>= 0``).
        data_preprocessor: set by the Runner from the top-level ``data_preprocessor``.
        **merged_base_keys: keys mmengine merged in from ``_base_.model`` (must be equal).

    Raises:
        ValueError: a group the canonicaliser cannot realise exactly (the message lists the
            allowed ones), bad ``prior_weight`` or canonicaliser settings — all before the
            inner model is built.
        TypeError: the model is not a segmentor/classifier, a segmentor without
            ``inference`` (mmseg ``EncoderDecoder`` and subclasses have it), unknown
            canonicaliser keys, unexpected keys.
    """
    settings = CanonSettings.from_keys(prior_weight)
    try:
        network = GroupCanonicalizer(**dict(canonicalizer or {}))
    except TypeError as error:
        raise TypeError(f'{NAME}.canonicalizer: {error}') from None
    inner = build_inner_model(NAME, model, data_preprocessor, merged_base_keys,
                              usage="model=..., canonicalizer=dict(group='C4')")
    if task_of(inner) == 'segmentation':
        if not callable(getattr(inner, 'inference', None)):
            raise TypeError(f'{NAME} needs a segmentor with inference(inputs, metas) (mmseg '
                            f'EncoderDecoder and its subclasses); got {type(inner).__name__}')
        mixin = CanonicalizedSegmentor
    else:
        mixin = CanonicalizedClassifier
    swap_in(inner, mixin)
    inner.canon_settings = settings
    inner.add_module('canonicalizer', network)
    return inner


MODELS.register_module(name=NAME, module=build_canonicalized_model)
