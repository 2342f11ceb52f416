"""``mmsofteq.GCNN``: a group-equivariant CNN for ``C4`` / ``D4`` (and their subgroups).

Registered in the ``mmsofteq`` MODELS registry, so an mmpretrain classifier config uses it as
``backbone=dict(type='mmsofteq.GCNN', ...)`` (with ``neck=dict(type='GlobalAveragePooling')``
and a head with ``in_channels=stage_channels[-1]``). Layers (:mod:`.gconv`)::

    stem:     LiftingConv2d(in → stem_channels, stem_kernel_size) → GroupBatchNorm → ReLU
    stage i:  [2×2 spatial pool, i > 0] → convs_per_stage × (GroupConv2d(k) → GroupBatchNorm → ReLU)
    output:   per index in out_indices, the stage's features
              out_type='invariant': GroupPool over the group axis → (B, C_i, H_i, W_i)
              out_type='regular':   (B, C_i, |G|, H_i, W_i)

Every layer maps ``T_h x`` to ``L_h`` of its output (:mod:`.gconv`), so the invariant outputs
satisfy ``out(T_h x) = T_h out(x)`` and their spatial mean (mmpretrain's
``GlobalAveragePooling``) is invariant to every ``h`` of the group, to float rounding, for
square inputs whose side is divisible by ``2**(len(stage_channels) - 1)``. Weights are float32
parameters; the rotations are exact (``torch.rot90`` / ``torch.flip``). Trained from scratch
(He-normal init; no pretrained weights exist).
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import nn

from ...registry import MODELS
from ..group_actions import finite_group
from .gconv import (GROUP_POOLS, SPATIAL_POOLS, GroupBatchNorm, GroupConv2d, GroupPool,
                    LiftingConv2d, spatial_pool)

OUT_TYPES = ('invariant', 'regular')


class _GroupConvBlock(nn.Module):
    """``conv → GroupBatchNorm → ReLU`` on group feature maps."""

    def __init__(self, conv: nn.Module, channels: int) -> None:
        super().__init__()
        self.conv = conv
        self.norm = GroupBatchNorm(channels)
        self.activation = nn.ReLU(inplace=True)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.activation(self.norm(self.conv(features)))


class GCNN(BaseModule):
    """Group-equivariant CNN backbone (module docstring).

    Args:
        group: ``'C4'`` (default), ``'D4'``, or a subgroup ``'C1' | 'C2' | 'D1' | 'D2'``.
        in_channels: image channels.
        stem_channels: channels (per group element) of the lifting convolution.
        stem_kernel_size: odd kernel size of the lifting convolution.
        stage_channels: channels (per group element) of each stage.
        convs_per_stage: group convolutions per stage.
        kernel_size: odd kernel size of the group convolutions.
        downsample: ``'max'`` or ``'avg'`` 2×2 pooling between stages.
        group_pool: ``'max'`` or ``'mean'`` over the group axis (``out_type='invariant'``).
        out_type: ``'invariant'`` or ``'regular'`` (see the module docstring).
        out_indices: stages whose features are returned (negative counts from the end).
        init_cfg: mmengine init config (e.g. ``Pretrained`` from a GCNN checkpoint).

    Raises:
        ValueError: a group without an exact action, even kernel sizes, unknown modes.
    """

    def __init__(self,
                 group: str = 'C4',
                 in_channels: int = 3,
                 stem_channels: int = 16,
                 stem_kernel_size: int = 5,
                 stage_channels: Sequence[int] = (16, 32, 64),
                 convs_per_stage: int = 2,
                 kernel_size: int = 3,
                 downsample: str = 'max',
                 group_pool: str = 'max',
                 out_type: str = 'invariant',
                 out_indices: Union[int, Sequence[int]] = (-1, ),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.group = finite_group(group, exact=True, who='GCNN')
        if downsample not in SPATIAL_POOLS:
            raise ValueError(f'GCNN.downsample must be one of {SPATIAL_POOLS}, got '
                             f'{downsample!r}')
        if group_pool not in GROUP_POOLS:
            raise ValueError(f'GCNN.group_pool must be one of {GROUP_POOLS}, got '
                             f'{group_pool!r}')
        if out_type not in OUT_TYPES:
            raise ValueError(f'GCNN.out_type must be one of {OUT_TYPES}, got {out_type!r}')
        stage_channels = tuple(int(c) for c in stage_channels)
        if not stage_channels or convs_per_stage < 1:
            raise ValueError('GCNN needs at least one stage with at least one convolution')
        indices = (out_indices, ) if isinstance(out_indices, int) else tuple(out_indices)
        self.out_indices = tuple(i % len(stage_channels) for i in indices)
        self.downsample, self.out_type = downsample, out_type
        self.stage_channels = stage_channels

        self.stem = _GroupConvBlock(
            LiftingConv2d(self.group, in_channels, stem_channels, stem_kernel_size),
            stem_channels)
        stages, channels = [], stem_channels
        for width in stage_channels:
            blocks = []
            for _ in range(convs_per_stage):
                blocks.append(_GroupConvBlock(
                    GroupConv2d(self.group, channels, width, kernel_size), width))
                channels = width
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)
        self.group_pool = GroupPool(group_pool)

    @property
    def out_channels(self) -> int:
        """Channels of the last returned stage."""
        return self.stage_channels[self.out_indices[-1]]

    def forward_features(self, images: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """The regular features ``(B, C_i, |G|, H_i, W_i)`` of every stage."""
        features = self.stem(images)
        outputs = []
        for index, stage in enumerate(self.stages):
            if index > 0:
                features = spatial_pool(features, self.downsample)
            features = stage(features)
            outputs.append(features)
        return tuple(outputs)

    def forward(self, images: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Tuple of the ``out_indices`` stages' outputs (module docstring)."""
        stages = self.forward_features(images)
        picked = [stages[i] for i in self.out_indices]
        if self.out_type == 'invariant':
            picked = [self.group_pool(features) for features in picked]
        return tuple(picked)


MODELS.register_module(name='GCNN', module=GCNN)
