"""Rotational asymmetry of a field under the rotations a user evaluates with.

A ``k x k`` field ``w`` (a conv-kernel slice, one channel of a position grid) is compared with
its transforms ``T w`` under a *rotation measure* ``μ``: a finite weighted set of grid
transformations ``T = R_θ ∘ G`` (``R_θ`` the evaluation's bilinear resampling,
``grid.resampled_rotation_operator``; ``G`` the identity or an exact reflection of the square).
Its expected squared asymmetry is the quadratic form

    a(w)² = E_{T∼μ} ‖V_T (T − I) w‖² = wᵀ Q_μ w,     Q_μ = Σ_T μ(T) (T − I)ᵀ V_T (T − I)

(``N x N``, symmetric PSD; ``V_T`` keeps the pixels whose sample point lies inside the grid,
where a rotated field is defined without fill values). The relative asymmetry of ``w`` is
``a(w) / ‖w‖``.

**The measures** (``evaluation_measure``), per group:

=========  ===================================================================================
``SO2``    ``θ ∼ U(low, high)`` (default ``U(−30°, 30°)``, the rotated evaluation's angles),
           midpoint rule with ``step`` degrees (default 0.5°)
``O2``     the same rotations, half of the mass composed with the four reflections of the
           square (``rot90^j ∘ flip_x``, so that ``Q_μ`` commutes with the quarter turn)
``Cn``     the group's ``n`` rotations ``360°·m/n``, uniform (the Haar measure)
``Dn``     the group's ``2n`` elements, uniform
=========  ===================================================================================

``Q_μ`` commutes with the grid's quarter turn (rotations commute; the reflection parts are
closed under conjugation by it), with the flip when the angles are symmetric, and so with every
exact element of the group; ``Dn`` with odd ``n`` commutes with the half turn only.

**The exact form** (``exact_asymmetry_form``): ``Σ_g (ρ(g) − I)ᵀ (ρ(g) − I)`` over the group's
exact grid generators (``rot90`` or ``rot180`` when the group holds it, and the reflections of
the square it holds). It commutes with ``Q_μ``; ``generator='resampled'`` uses it to order the
directions ``Q_μ`` cannot tell apart and to define its strict end: softness 0 keeps the fields
neither form changes. Where ``Q_μ`` is zero (no pixel of a 2x2 grid stays inside it after any
small turn) the exact form replaces it (``asymmetry_generator``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

import numpy as np
from scipy.linalg import eigh
from scipy.sparse import csr_matrix, diags, identity

from .generator import Generator
from .grid import (quarter_turn_operator, reflection_operator, resampled_rotation_sparse,
                   symmetry_adapted_blocks)
from .group import DEFAULT_ANGLE_RANGE, Group

#: Midpoint-rule step (degrees) of a continuous angle range.
DEFAULT_ANGLE_STEP = 0.5


@dataclass(frozen=True)
class RotationMeasure:
    """A finite weighted set of grid transformations ``T = R_θ ∘ G``.

    Attributes:
        angles: rotation angles ``θ`` (radians, counter-clockwise), one per node.
        reflections: per node ``None`` (``G = I``) or ``j`` (``G = rot90^j ∘ flip_x``).
        weights: per node, ``> 0``; the identity's share of the mean is left out (it adds 0).
        label: what the measure is, e.g. ``'U(-30°,30°)'`` or ``'C8'``.
    """

    angles: tuple
    reflections: tuple
    weights: tuple
    label: str

    def __post_init__(self) -> None:
        if not len(self.angles) == len(self.reflections) == len(self.weights):
            raise ValueError('a rotation measure needs one angle, reflection and weight per node')


def quarter_turn_symmetric(group: Group) -> bool:
    """Whether ``Q_μ`` of ``group`` commutes with ``rot90`` (else with ``rot180`` only).

    Conjugating ``R_θ ∘ rot90^j ∘ flip_x`` by the quarter turn gives ``R_θ ∘ rot90^{j+2} ∘
    flip_x`` (``= R_{θ+π} ∘ rot90^j ∘ flip_x``): ``O2``'s four reflections and ``Dn``'s
    reflections for even ``n`` are closed under it, odd ``n`` is not."""
    return not (group.reflection and group.order is not None and group.order % 2 == 1)


def _check_angle_range(angle_range) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in angle_range)
    except (TypeError, ValueError):
        raise ValueError(f'angle_range must be (low, high) in degrees, got {angle_range!r}') \
            from None
    if not (math.isfinite(low) and math.isfinite(high)) or low > high or high - low > 360:
        raise ValueError('angle_range must be finite degrees with low <= high and at most '
                         f'360 apart, got {angle_range!r}')
    return low, high


def evaluation_measure(group: Group, angle_range=DEFAULT_ANGLE_RANGE,
                       step: float = DEFAULT_ANGLE_STEP) -> RotationMeasure:
    """The rotation measure of ``group`` (module docstring).

    Args:
        group: a planar ``Group``.
        angle_range: ``(low, high)`` degrees of the continuous groups' rotations.
        step: midpoint-rule step in degrees for a continuous range (``> 0``).

    Raises:
        ValueError: a 3-D group, a bad range or step.
    """
    if group.three_dimensional:
        raise ValueError('rotation measures act on planar grids; SO3 has none')
    if not (isinstance(step, (int, float)) and step > 0 and math.isfinite(step)):
        raise ValueError(f'step must be a positive number of degrees, got {step!r}')
    if group.order is None:
        low, high = _check_angle_range(angle_range)
        if group.reflection and low != -high:
            raise ValueError(f'{group.name} needs a symmetric angle_range (low = -high) so '
                             f'that its asymmetry form commutes with the flip; got '
                             f'{angle_range!r}')
        count = max(1, math.ceil((high - low) / step - 1e-9))
        degrees = [low + (high - low) * (i + 0.5) / count for i in range(count)]
        angles = [math.radians(d) for d in degrees]
        label = f'U({low:g}°,{high:g}°)' if high > low else f'{low:g}°'
        if not group.reflection:
            return RotationMeasure(tuple(angles), (None,) * count, (1.0 / count,) * count, label)
        rotation = [(a, None, 0.5 / count) for a in angles]
        reflected = [(a, j, 0.125 / count) for a in angles for j in range(4)]
        nodes = rotation + reflected
        return RotationMeasure(*map(tuple, zip(*nodes)), label=f'{label} and reflections')
    n = group.order
    size = 2 * n if group.reflection else n
    nodes = [(2 * math.pi * m / n, None, 1.0 / size) for m in range(1, n)]
    if group.reflection:
        nodes += [(2 * math.pi * m / n, 0, 1.0 / size) for m in range(n)]
    if not nodes:
        return RotationMeasure((), (), (), group.name)
    return RotationMeasure(*map(tuple, zip(*nodes)), label=group.name)


def _transformation(k: int, angle: float, reflection: Optional[int]):
    """Sparse ``T = R_θ ∘ G`` and its valid mask ``V_T`` (``G`` exact, so ``V_T = V_θ``)."""
    operator, valid = resampled_rotation_sparse(k, angle)
    if reflection is not None:
        operator = operator @ _reflection_sparse(k, reflection)
    return operator, valid


@lru_cache(maxsize=64)
def _reflection_sparse(k: int, turns: int) -> csr_matrix:
    """``rot90^turns ∘ flip_x`` as a sparse permutation."""
    index = np.arange(k * k).reshape(k, k)
    moved = np.rot90(np.fliplr(index), turns).ravel()   # new_field[p] = old_field[moved[p]]
    return csr_matrix((np.ones(k * k), (np.arange(k * k), moved)), shape=(k * k, k * k))


@lru_cache(maxsize=32)
def asymmetry_form(grid_size: int, measure: RotationMeasure) -> np.ndarray:
    """``Q_μ`` (``N x N``, float64, symmetric PSD, read-only) on a ``k x k`` grid."""
    size = grid_size * grid_size
    form = csr_matrix((size, size))
    eye = identity(size, format='csr')
    for angle, reflection, weight in zip(measure.angles, measure.reflections, measure.weights):
        operator, valid = _transformation(grid_size, angle, reflection)
        difference = operator - eye
        form = form + weight * (difference.T @ diags(valid.astype(np.float64)) @ difference)
    dense = form.toarray()
    dense = 0.5 * (dense + dense.T)
    dense.setflags(write=False)
    return dense


@lru_cache(maxsize=32)
def quarter_turn_form(grid_size: int) -> np.ndarray:
    """``(R − I)ᵀ (R − I)`` of the exact quarter turn ``R`` (``N x N``, read-only)."""
    difference = quarter_turn_operator(grid_size, 1) - np.eye(grid_size * grid_size)
    form = difference.T @ difference
    form.setflags(write=False)
    return form


def exact_elements(group: Group, grid_size: int) -> tuple[np.ndarray, ...]:
    """The group's exact grid generators ``ρ(g)`` (permutations): ``rot90`` (or ``rot180``)
    when the group holds it, and its reflections of the square (``flip_x``, ``rot90^j ∘
    flip_x``)."""
    quarter = group.order is None or group.order % 4 == 0
    half = quarter or group.order % 2 == 0
    elements = []
    if quarter:
        elements.append(quarter_turn_operator(grid_size, 1))
    elif half:
        elements.append(quarter_turn_operator(grid_size, 2))
    if group.reflection:
        flip = reflection_operator(grid_size)
        turns = (0, 1, 2, 3) if quarter else ((0, 2) if half else (0,))
        elements += [quarter_turn_operator(grid_size, t) @ flip for t in turns]
    return tuple(elements)


@lru_cache(maxsize=32)
def exact_asymmetry_form(group: Group, grid_size: int) -> Optional[np.ndarray]:
    """``Σ_g (ρ(g) − I)ᵀ (ρ(g) − I)`` over :func:`exact_elements` (``None`` if there are
    none, e.g. ``C3``)."""
    elements = exact_elements(group, grid_size)
    if not elements:
        return None
    eye = np.eye(grid_size * grid_size)
    form = sum((e - eye).T @ (e - eye) for e in elements)
    form.setflags(write=False)
    return form


def pooled_asymmetry(fields: np.ndarray, form: np.ndarray) -> float:
    """``sqrt(Σ_j w_jᵀ Q w_j / Σ_j ‖w_j‖²)`` over the rows ``w_j`` of ``fields`` (``(M, N)``):
    the relative asymmetry of a whole tensor, each slice weighted by its energy (0 for a zero
    tensor)."""
    fields = np.asarray(fields, dtype=np.float64).reshape(-1, form.shape[0])
    energy = float(np.einsum('ij,ij->', fields, fields))
    if energy == 0.0:
        return 0.0
    asymmetry = float(np.einsum('ij,jk,ik->', fields, form, fields))
    return math.sqrt(max(asymmetry, 0.0) / energy)


def relative_asymmetry(fields: np.ndarray, form: np.ndarray) -> np.ndarray:
    """``sqrt(wᵀ Q w) / ‖w‖`` per row of ``fields`` (``(..., N)``); 0 for a zero row."""
    fields = np.asarray(fields, dtype=np.float64)
    energy = np.einsum('...i,...i->...', fields, fields)
    asymmetry = np.einsum('...i,ij,...j->...', fields, form, fields)
    ratio = np.divide(np.clip(asymmetry, 0.0, None), energy, out=np.zeros_like(energy),
                      where=energy > 0)
    return np.sqrt(ratio)


@lru_cache(maxsize=32)
def asymmetry_generator(group: Group, grid_size: int,
                        angle_range: tuple = DEFAULT_ANGLE_RANGE) -> Generator:
    """The ``kind='asymmetry'`` generator ``D = Q_μ^{1/2}`` of ``group`` on a ``k x k`` grid
    (``μ = evaluation_measure(group, angle_range)``), computed per isotypic block of the
    quarter (or half) turn, which ``Q_μ`` commutes with."""
    measure = evaluation_measure(group, angle_range)
    form = asymmetry_form(grid_size, measure)
    label = f'asymmetry {measure.label}'
    if not np.any(np.abs(form) > 1e-12):
        # No pixel stays inside the grid under the measure's rotations (2x2 under ±30°): the
        # group's exact elements are the only rotations the grid can show.
        form = exact_asymmetry_form(group, grid_size)
        if form is None:
            raise ValueError(f'group {group.name} cannot act on a {grid_size}x{grid_size} grid: '
                             f'no pixel stays inside it under {measure.label} and the group '
                             'holds no quarter/half turn or reflection; leave such tensors '
                             'untouched (softeq.min_kernel_size / exclude)')
        label = (f'asymmetry under the exact elements ({grid_size}x{grid_size}: '
                 f'{measure.label} leaves no pixel inside)')
    root = np.zeros_like(form)
    for block in symmetry_adapted_blocks(grid_size, quarter_turn_symmetric(group)):
        values, vectors = eigh(block.T @ form @ block, driver='evd')
        basis = block @ vectors
        root += (basis * np.sqrt(np.clip(values, 0.0, None))) @ basis.T
    return Generator(0.5 * (root + root.T), 'asymmetry', label)
