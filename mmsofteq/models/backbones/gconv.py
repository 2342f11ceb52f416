"""Group convolutions on ``G × Z²`` for the exact groups ``C1, C2, C4, D1, D2, D4``.

Feature maps on the group are ``(B, C, |G|, H, W)`` tensors ``f[b, c, g, p]`` (element order of
:class:`~mmsofteq.models.group_actions.FiniteGroup`). An element ``h`` acts on images by
``T_h = R_θ Fᵐ`` (``torch.rot90`` / ``torch.flip``) and on group feature maps by

    (L_h f)[c, g] = T_h f[c, h⁻¹ g]        (spatial transform + left regular permutation).

Layers (``k`` odd, stride 1, padding ``k // 2``, so ``conv2d(T x, w) = T conv2d(x, T⁻¹ w)``
holds exactly on any square input):

* :class:`LiftingConv2d` ``Z² → G × Z²``: ``out[o, g] = Σ_c x[c] ⋆ T_g W[o, c]``;
  ``out(T_h x) = L_h out(x)``.
* :class:`GroupConv2d` ``G × Z² → G × Z²``:
  ``out[o, g] = Σ_{c, g'} f[c, g'] ⋆ T_g W[o, c, g⁻¹ g']`` (filters transformed by ``g`` and
  permuted along the group axis: cyclically shifted for ``C4``); ``out(L_h f) = L_h out(f)``.
* :class:`GroupBatchNorm`: ``BatchNorm3d`` over ``(B, |G|, H, W)`` per channel — statistics
  and affine parameters shared over the group axis, so it commutes with ``L_h``.
* :func:`spatial_pool`: 2×2 max / average pooling, stride 2; equivariant when ``H`` and ``W``
  are even (the 2×2 blocks map onto blocks under ``T_h``), so odd sizes are rejected.
* :class:`GroupPool`: max or mean over the group axis, ``(B, C, |G|, H, W) → (B, C, H, W)``;
  ``pool(L_h f) = T_h pool(f)`` (a rotation-equivariant scalar field; its spatial mean is
  invariant).

Pointwise nonlinearities (ReLU) commute with ``L_h``. In eval mode every layer is equivariant
up to float rounding (the same products are summed in another order); in training mode too,
batch statistics being permutation-invariant means.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..group_actions import FiniteGroup

SPATIAL_POOLS = ('max', 'avg')
GROUP_POOLS = ('max', 'mean')


def act_on_group_features(features: torch.Tensor, group: FiniteGroup,
                          index: int) -> torch.Tensor:
    """``L_h f`` for ``h = group.elements[index]``; ``features`` ``(B, C, |G|, H, W)``.

    The action the group layers are equivariant to (``layer(L_h f) = L_h layer(f)``), public
    so that a check of that identity (the tests, a user's own layer) uses the same action.
    """
    permuted = features[:, :, list(group.left_permutation(index))]
    return group.act(permuted, index)


def _check_exact(group: FiniteGroup, who: str) -> None:
    if not group.exact:
        raise ValueError(f'{who} realises {group.name} exactly with rot90/flip only; use one of '
                         "'C1', 'C2', 'C4', 'D1', 'D2', 'D4'")


def _check_kernel(kernel_size: int, who: str) -> None:
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or \
            kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f'{who}: kernel_size must be an odd positive int (a centred kernel '
                         f'keeps conv2d equivariant), got {kernel_size!r}')


class _GroupKernelConv(nn.Module):
    """What the lifting and group convolutions share: checked group and kernel size, a weight
    ``(C_out, C_in, *group_axes, k, k)``, a bias per output channel (repeated over ``|G|``),
    He-normal init and the convolution of the expanded weight."""

    def __init__(self, group: FiniteGroup, in_channels: int, out_channels: int,
                 kernel_size: int, bias: bool, group_axes: tuple) -> None:
        super().__init__()
        _check_exact(group, type(self).__name__)
        _check_kernel(kernel_size, type(self).__name__)
        self.group = group
        self.in_channels, self.out_channels, self.kernel_size = (in_channels, out_channels,
                                                                  kernel_size)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, *group_axes,
                                               kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def reset_parameters(self) -> None:
        """He-normal init for ReLU, ``fan_in`` = the entries of one output filter; bias 0."""
        fan_in = self.weight[0].numel()
        nn.init.normal_(self.weight, 0.0, math.sqrt(2.0 / fan_in))
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def expanded_weight(self) -> torch.Tensor:
        raise NotImplementedError

    def _convolve(self, inputs: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W) → (B, C_out, |G|, H, W)`` with the expanded weight."""
        order = len(self.group)
        bias = None if self.bias is None else self.bias.repeat_interleave(order)
        out = F.conv2d(inputs, self.expanded_weight(), bias, padding=self.kernel_size // 2)
        return out.reshape(out.shape[0], self.out_channels, order, *out.shape[-2:])

    def extra_repr(self) -> str:
        return (f'{self.group.name}, {self.in_channels} -> {self.out_channels}, '
                f'kernel_size={self.kernel_size}')


class LiftingConv2d(_GroupKernelConv):
    """``(B, C_in, H, W) → (B, C_out, |G|, H, W)``; weight ``(C_out, C_in, k, k)``; init
    He-normal with ``fan_in = C_in k²``."""

    def __init__(self, group: FiniteGroup, in_channels: int, out_channels: int,
                 kernel_size: int, bias: bool = True) -> None:
        super().__init__(group, in_channels, out_channels, kernel_size, bias, ())
        self.reset_parameters()

    def expanded_weight(self) -> torch.Tensor:
        """``(C_out |G|, C_in, k, k)``: row ``o |G| + g`` is ``T_g W[o]``."""
        order = len(self.group)
        filters = torch.stack([self.group.act(self.weight, g) for g in range(order)], dim=1)
        return filters.reshape(self.out_channels * order, self.in_channels, self.kernel_size,
                               self.kernel_size)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self._convolve(images)


class GroupConv2d(_GroupKernelConv):
    """``(B, C_in, |G|, H, W) → (B, C_out, |G|, H, W)``; weight ``(C_out, C_in, |G|, k, k)``;
    init He-normal with ``fan_in = C_in |G| k²``."""

    def __init__(self, group: FiniteGroup, in_channels: int, out_channels: int,
                 kernel_size: int, bias: bool = True) -> None:
        super().__init__(group, in_channels, out_channels, kernel_size, bias, (len(group), ))
        order = len(group)
        self.register_buffer('permutations', torch.tensor(
            [group.left_permutation(g) for g in range(order)], dtype=torch.long),
            persistent=False)
        self.reset_parameters()

    def expanded_weight(self) -> torch.Tensor:
        """``(C_out |G|, C_in |G|, k, k)``: block ``(o, g; c, g')`` is
        ``T_g W[o, c, g⁻¹ g']``."""
        order = len(self.group)
        filters = torch.stack([self.group.act(self.weight[:, :, self.permutations[g]], g)
                               for g in range(order)], dim=1)
        return filters.reshape(self.out_channels * order, self.in_channels * order,
                               self.kernel_size, self.kernel_size)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        batch, channels, order, height, width = features.shape
        return self._convolve(features.reshape(batch, channels * order, height, width))


class GroupBatchNorm(nn.BatchNorm3d):
    """BatchNorm of ``(B, C, |G|, H, W)`` with per-channel statistics and affine parameters
    shared over the group axis (``BatchNorm3d`` normalises over ``(B, |G|, H, W)``)."""


class GroupPool(nn.Module):
    """``(B, C, |G|, H, W) → (B, C, H, W)``: max or mean over the group axis."""

    def __init__(self, mode: str = 'max') -> None:
        super().__init__()
        if mode not in GROUP_POOLS:
            raise ValueError(f'group pooling must be one of {GROUP_POOLS}, got {mode!r}')
        self.mode = mode

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features.amax(dim=2) if self.mode == 'max' else features.mean(dim=2)

    def extra_repr(self) -> str:
        return self.mode


def spatial_pool(features: torch.Tensor, mode: str = 'max') -> torch.Tensor:
    """2×2, stride-2 pooling of ``(B, C, |G|, H, W)``; ``H`` and ``W`` must be even."""
    batch, channels, order, height, width = features.shape
    if height % 2 or width % 2:
        raise ValueError(f'GCNN downsampling needs even spatial sizes to stay exactly '
                         f'equivariant, got {height}x{width}; use inputs whose side is '
                         'divisible by 2**(number of stages - 1)')
    flat = features.reshape(batch, channels * order, height, width)
    pooled = F.max_pool2d(flat, 2) if mode == 'max' else F.avg_pool2d(flat, 2)
    return pooled.reshape(batch, channels, order, height // 2, width // 2)
