"""Finite planar groups acting on image-like tensors: the shared geometry of the baselines.

An element ``g = (θ, m)`` (rotation by ``θ`` degrees counter-clockwise, ``m ∈ {0, 1}`` flips)
acts on a field ``x`` of shape ``(..., h, w)`` (image, logits, label map, kernel) as

    g·x = R_θ Fᵐ x,        g⁻¹·y = Fᵐ R_−θ y,

with ``F`` the left-right flip (``torch.flip(x, dims=(-1,))``, the ``flip_x`` of
:mod:`mmsofteq.groups`) and ``R_θ`` :func:`mmsofteq.utils.rotate_field` (centre pivot,
bilinear, zero fill, no expand; ``torch.rot90`` for quarter turns of square fields). Since
``F R_θ = R_−θ F``, elements compose as

    (θ₁, m₁)(θ₂, m₂) = (θ₁ + (−1)^m₁ θ₂, m₁ ⊕ m₂).

``C<n>`` holds the ``n`` rotations by ``360 k / n`` (index ``k``); ``D<n>`` adds their
compositions with the flip (index ``n + k`` is ``(360 k / n, 1)``). Index 0 is the identity.

*Exact groups* are those whose rotations are all quarter turns: the subgroups of ``D4``
(``C1, C2, C4, D1, D2, D4``). On square fields they act by permuting pixels, exactly in any
dtype; :meth:`FiniteGroup.check_field_shape` rejects non-square fields when the group holds a
quarter turn (``torch.rot90`` would change the shape; resampling in the frame would lose the
corners and exactness). Other groups (``C8``, ``D6``, ...) resample bilinearly: pixels rotated
in from outside the view read 0, and :meth:`FiniteGroup.inverse_valid_mask` says which pixels
of ``g⁻¹·y`` came from inside the view.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, List, Optional, Sequence, Tuple

import torch

from ..groups import parse_group
from ..nn.evaluation_angles import AngleSampler
from ..utils import quarter_turns, rotate_field, rotate_label_map, rotation_valid_mask

#: Groups realised by quarter turns and the flip only (exact on square fields).
EXACT_GROUP_NAMES = ('C1', 'C2', 'C4', 'D1', 'D2', 'D4')
FINITE_GROUP_NAMES_HELP = "'C<n>' or 'D<n>' (n >= 1, e.g. 'C4', 'C8', 'D4')"
_ANGLE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class GroupElement:
    """``(angle, flip)``: ``x ↦ R_angle F^flip x`` (module docstring)."""

    angle: float
    flip: bool

    @property
    def quarter_turns(self) -> Optional[int]:
        """``k`` if the rotation is ``90 k`` degrees, else ``None``."""
        return quarter_turns(self.angle)

    @property
    def label(self) -> str:
        rotation = f'rot{self.angle:g}' if self.angle else ''
        if self.flip:
            return f'{rotation}∘flip' if rotation else 'flip'
        return rotation or 'identity'


@dataclass(frozen=True)
class FiniteGroup:
    """``C<n>`` or ``D<n>`` with its action on fields ``(..., h, w)``.

    Attributes:
        name: canonical name (``'C4'``, ``'D8'``).
        rotations: ``n``.
        reflection: whether the flips are elements (``D<n>``).
    """

    name: str
    rotations: int
    reflection: bool

    # ------------------------------------------------------------------ elements
    def __len__(self) -> int:
        return self.rotations * (2 if self.reflection else 1)

    @property
    def elements(self) -> Tuple[GroupElement, ...]:
        n = self.rotations
        return tuple(GroupElement(360.0 * (i % n) / n, i >= n) for i in range(len(self)))

    @property
    def exact(self) -> bool:
        """Every rotation is a quarter turn (a subgroup of ``D4``)."""
        return 4 % self.rotations == 0

    @property
    def has_quarter_turn(self) -> bool:
        """Some element rotates by an odd number of quarter turns (changes a field's shape
        under ``torch.rot90`` unless the field is square)."""
        return any(e.quarter_turns in (1, 3) for e in self.elements)

    def compose(self, first: int, second: int) -> int:
        """Index of ``g_first g_second`` (``second`` acts first)."""
        n = self.rotations
        (r1, m1), (r2, m2) = divmod_element(first, n), divmod_element(second, n)
        rotation = (r1 + (-r2 if m1 else r2)) % n
        return (m1 ^ m2) * n + rotation

    def inverse(self, index: int) -> int:
        n = self.rotations
        rotation, flip = divmod_element(index, n)
        return index if flip else (-rotation) % n

    def left_permutation(self, index: int) -> Tuple[int, ...]:
        """``perm[g] = index of h⁻¹ g`` for ``h = elements[index]``: ``(L_h f)[g] = f[perm[g]]``
        is the left regular representation on functions of the group."""
        inverse = self.inverse(index)
        return tuple(self.compose(inverse, g) for g in range(len(self)))

    # ------------------------------------------------------------------ action on fields
    def check_field_shape(self, size_hw: Sequence[int], who: str) -> None:
        """Raise ``ValueError`` for a non-square field when an exact group holds a quarter
        turn (its action would not be a pixel permutation of the field)."""
        height, width = (int(s) for s in size_hw[-2:])
        if self.exact and self.has_quarter_turn and height != width:
            raise ValueError(
                f'{who} with group {self.name} acts by exact quarter turns (torch.rot90), which '
                f'need square inputs; got {height}x{width}. Use square crops (for an mmseg '
                f"segmentor: test_cfg=dict(mode='slide', crop_size=(s, s), stride=...) with "
                f'images at least s px on each side), or a group without quarter turns '
                f"('C2', 'D1', 'D2')")

    def act(self, field: torch.Tensor, index: int) -> torch.Tensor:
        """``g·x = R_θ Fᵐ x`` for ``g = elements[index]``; ``x`` itself for the identity."""
        if index == 0:
            return field
        element = self.elements[index]
        if element.flip:
            field = torch.flip(field, dims=(-1, ))
        return rotate_field(field, element.angle) if element.angle else field

    def act_inverse(self, field: torch.Tensor, index: int) -> torch.Tensor:
        """``g⁻¹·y = Fᵐ R_−θ y`` for ``g = elements[index]``."""
        if index == 0:
            return field
        element = self.elements[index]
        if element.angle:
            field = rotate_field(field, -element.angle)
        return torch.flip(field, dims=(-1, )) if element.flip else field

    def act_on_labels(self, labels: torch.Tensor, index: int, ignore_index: int,
                      inverse: bool = False) -> torch.Tensor:
        """``g·labels`` (or ``g⁻¹·labels``) of an integer map ``(..., h, w)``: nearest
        sampling, pixels from outside the view get ``ignore_index``."""
        if index == 0:
            return labels
        element = self.elements[index]
        angle = -element.angle if inverse else element.angle
        if element.flip and not inverse:
            labels = torch.flip(labels, dims=(-1, ))
        if angle:
            labels = rotate_label_map(labels, angle, ignore_index)
        if element.flip and inverse:
            labels = torch.flip(labels, dims=(-1, ))
        return labels

    def inverse_valid_mask(self, size_hw: Sequence[int], index: int,
                           device: Optional[torch.device] = None) -> torch.Tensor:
        """Bool ``(h, w)``: pixels of ``g⁻¹·y`` sampled from inside ``y``'s view
        (``Fᵐ`` of :func:`mmsofteq.utils.rotation_valid_mask` for ``−θ``)."""
        height, width = (int(s) for s in size_hw[-2:])
        element = self.elements[index]
        if index == 0 or not element.angle or (
                element.quarter_turns is not None and height == width):
            return torch.ones(height, width, dtype=torch.bool, device=device)
        mask = rotation_valid_mask((height, width), -element.angle, device=device)
        return torch.flip(mask, dims=(-1, )) if element.flip else mask

    def rotation_angles(self) -> Tuple[float, ...]:
        """The group's rotation angles in degrees (``360 k / n``)."""
        return tuple(360.0 * k / self.rotations for k in range(self.rotations))


def divmod_element(index: int, rotations: int) -> Tuple[int, int]:
    """``(rotation k, flip m)`` of an element index."""
    flip, rotation = divmod(int(index), rotations)
    return rotation, flip


@lru_cache(maxsize=None)
def finite_group(name: str, exact: bool = False, who: str = 'this model') -> FiniteGroup:
    """Parse ``'C<n>'`` / ``'D<n>'`` (case-insensitive, :func:`mmsofteq.groups.parse_group`).

    Args:
        name: the group.
        exact: only accept the exact groups (:data:`EXACT_GROUP_NAMES`).
        who: named in the error messages.

    Raises:
        ValueError: a continuous or 3-D group, an unknown name, or (``exact``) a group with
            a rotation that is not a quarter turn; the message lists the allowed names.
    """
    allowed = (', '.join(repr(n) for n in EXACT_GROUP_NAMES) if exact else
               FINITE_GROUP_NAMES_HELP)
    try:
        group = parse_group(name)
    except ValueError:
        raise ValueError(f'{who}: unknown group {name!r}; group must be one of {allowed}')
    if group.order is None or group.three_dimensional:
        raise ValueError(f'{who} needs a finite planar group, one of {allowed}; got {name!r} '
                         '(continuous groups have no finite orbit to enumerate)')
    result = FiniteGroup(group.name, int(group.order), bool(group.reflection))
    if exact and not result.exact:
        raise ValueError(
            f'{who} realises its group exactly with quarter turns and flips (torch.rot90 / '
            f'torch.flip): group must be one of {allowed}; got {name!r}. Rotations by '
            f'{360 / result.rotations:g} degrees have no exact action on a pixel grid')
    return result


# ---------------------------------------------------------------------- evaluation angles
def angles_outside_group(group: FiniteGroup, angles: Any) -> List[float]:
    """Evaluation angles (degrees) that are not rotations of ``group``.

    ``angles`` is a rotated loop's angle config (``dict(kind='uniform' | 'list' | 'cyclic',
    ...)``, ``None`` for the default) or an ``AngleSampler``. A continuous range
    ``low < high`` is reported as ``[low, high]``.
    """
    sampler = AngleSampler.from_config(angles)
    if sampler.kind == 'uniform':
        if sampler.low != sampler.high:
            return [sampler.low, sampler.high]  # a continuum always holds angles outside
        candidates = [sampler.low]
    else:
        candidates = list(sampler.values or ())
    step = 360.0 / group.rotations
    outside = []
    for angle in candidates:
        turns = angle / step
        if abs(turns - round(turns)) > _ANGLE_TOLERANCE * max(1.0, abs(turns)):
            outside.append(angle)
    return outside


def evaluation_angle_warning(group: FiniteGroup, angles: Any, who: str) -> Optional[str]:
    """The warning text when the rotated evaluation uses angles outside ``group`` (the
    wrapper is then no more invariant to them than the wrapped model), else ``None``."""
    if not angles_outside_group(group, angles):
        return None
    step = 360.0 / group.rotations
    return (f'{who}: group {group.name} holds rotations by multiples of {step:g}°, but the '
            f'rotated evaluation draws {AngleSampler.from_config(angles).describe()}. '
            'Rotations outside the group are not undone, so the rotated metrics of this model '
            'measure how robust it is to them without a guarantee (for an exact check evaluate '
            f"with angles=dict(kind='cyclic', order={group.rotations}), tools/test.py --angles "
            f'c{group.rotations})')
