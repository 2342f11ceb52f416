"""Public functional API: cached projector construction.

Every call normalises its arguments into hashable values and goes through an LRU cache keyed by
``(group, space(s), cutoff, method, generator, side)``; projectors are immutable, so sharing
them is safe.
"""
from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Optional, Union

from ..groups import (DEFAULT_ANGLE_RANGE, DISCRETISATIONS, GridSpace, Group, Space,
                      TrivialSpace, VectorSpace, exact_asymmetry_form, frequency_operator,
                      parse_group, quarter_turn_symmetric)
from .cutoff import Cutoff
from .equivariant import build_equivariant_projector
from .invariant import SIDES, build_invariant_projector
from .projector import EquivariantProjector, InvariantProjector

METHODS = ('auto', 'svd', 'schur', 'schur_paper')
GENERATORS = DISCRETISATIONS
SpaceLike = Union[Space, int, tuple]


def as_space(space: SpaceLike, argument: str = 'space') -> Space:
    """A ``Space``, or an int / ``(h, w)`` tuple meaning a square scalar grid."""
    if isinstance(space, (GridSpace, VectorSpace, TrivialSpace)):
        return space
    if isinstance(space, (int, tuple, list)) and not isinstance(space, bool):
        try:
            return GridSpace.from_shape(tuple(space) if isinstance(space, list) else space)
        except ValueError as error:
            raise ValueError(f'{argument}: {error}') from None
    raise ValueError(f'{argument} must be a GridSpace, VectorSpace, TrivialSpace, a grid size '
                     f'k or a (k, k) tuple; got {space!r}')


def _check(value: str, allowed: tuple, argument: str) -> str:
    if value not in allowed:
        raise ValueError(f'{argument} must be one of {allowed}, got {value!r}')
    return value


def _angle_range(angle_range) -> tuple[float, float]:
    try:
        low, high = (float(value) for value in angle_range)
    except (TypeError, ValueError):
        raise ValueError('angle_range must be (low, high) in degrees, got '
                         f'{angle_range!r}') from None
    return low, high


@lru_cache(maxsize=512)
def _cached_invariant(group: Group, space: Space, cutoff: Cutoff, method: str,
                      generator: str, side: str,
                      angle_range: tuple = DEFAULT_ANGLE_RANGE) -> InvariantProjector:
    generators = group.generators(space, all_reflections=True, discretisation=generator,
                                  angle_range=angle_range)
    grid_symmetry, exact = None, None
    if isinstance(space, GridSpace):
        # Every generator's D Dᵀ commutes with the exact quarter turn (no reflection, or all
        # four of the square), else with the half turn.
        if generator == 'resampled':
            quarter = quarter_turn_symmetric(group)
            exact = exact_asymmetry_form(group, space.size)
        elif generator == 'spectral':
            quarter = group.commutes_with_quarter_turn(all_reflections=True)
        else:
            quarter = not group.reflection
        grid_symmetry = (space.size, quarter)
    return build_invariant_projector(group.name, generators, cutoff, method, grid_symmetry,
                                     side, frequency_operator(space), generator, exact)


@lru_cache(maxsize=256)
def _cached_equivariant(group: Group, space_in: Space, space_out: Space, cutoff: Cutoff,
                        method: str, generator: str) -> EquivariantProjector:
    on_grid = isinstance(space_in, GridSpace) or isinstance(space_out, GridSpace)
    projector = build_equivariant_projector(
        group.name, group.generators(space_in, on_grid, discretisation=generator),
        group.generators(space_out, on_grid, discretisation=generator), cutoff,
        'svd' if generator == 'bilinear' else method)
    return dataclasses.replace(projector, certificate=dataclasses.replace(
        projector.certificate, generator=generator))


def invariant_projector(group: Union[str, Group], space: SpaceLike, *,
                        softness: Optional[float] = None, tau: Optional[float] = None,
                        cutoff: str = 'hard', decay: Optional[float] = None,
                        method: str = 'auto', rounding: str = 'frequency',
                        generator: str = 'resampled', side: str = 'kernel',
                        angle_range: tuple = DEFAULT_ANGLE_RANGE) -> InvariantProjector:
    """Cached projector ``P`` (``N x N``) for an invariant layer on ``space``.

    Args:
        group: ``'SO2' | 'O2' | 'C<n>' | 'D<n>' | 'SO3'`` or a ``Group``.
        space: a ``Space``; an int ``k`` or ``(k, k)`` means a ``k x k`` scalar grid.
        softness: in ``[0, 1]`` (0 strict, 1 identity). Exactly one of softness / tau.
        tau: absolute cutoff ``τ >= 0`` on the singular values.
        cutoff: ``'hard'``, ``'smooth'`` (needs ``decay > 0``) or ``'smooth_paper'``.
        method: ``'auto'`` (= ``'schur'``), ``'svd'`` or ``'schur'``.
        rounding: ``'frequency'`` (default), ``'cluster'`` or ``'index'`` (``cutoff.py``).
        generator: ``'resampled'`` (default: directions ordered by their expected asymmetry
            under the evaluation's bilinear rotations, ``groups.asymmetry``), ``'spectral'``
            (normal Lie/difference generators) or ``'bilinear'`` (the paper's
            discretisation; ``C<n>``/``D<n>`` on grids).
        side: ``'kernel'`` (conv kernels, left singular vectors) or ``'data'`` (data-side
            fields such as position grids, right singular vectors); the same for normal
            generators and ``'resampled'``.
        angle_range: ``(low, high)`` degrees, the rotations of ``SO2``/``O2`` under
            ``'resampled'`` (default: the rotated evaluation's ``U(-30°, 30°)``).

    Raises:
        ValueError: any argument outside its allowed values (the message lists them).
    """
    return _cached_invariant(parse_group(group), as_space(space), Cutoff(
        softness=softness, tau=tau, kind=cutoff, decay=decay, rounding=rounding),
        _check(method, METHODS, 'method'),
        _check(generator, GENERATORS, 'generator'), _check(side, SIDES, 'side'),
        _angle_range(angle_range))


def equivariant_projector(group: Union[str, Group], space_in: SpaceLike, space_out: SpaceLike,
                          *, softness: Optional[float] = None, tau: Optional[float] = None,
                          cutoff: str = 'hard', decay: Optional[float] = None,
                          method: str = 'auto', rounding: str = 'frequency',
                          generator: str = 'spectral') -> EquivariantProjector:
    """Cached projector on maps ``W: space_in → space_out`` (``W`` is ``(N_out, N_in)``).

    ``'auto'`` uses the Schur route and falls back to the dense SVD (``n <= 4096``) when the
    generators are not normal; ``generator='bilinear'`` always uses the dense SVD. Other
    arguments as in ``invariant_projector`` (``rounding='frequency'`` rounds like
    ``'cluster'`` here: ``equivariant.py``), except ``generator='resampled'``: an asymmetry
    form orders fields, it does not act on maps, so equivariant maps take ``'spectral'``
    (default) or ``'bilinear'``.
    """
    if generator == 'resampled':
        raise ValueError("generator='resampled' orders the fields of invariant layers (kernels, "
                         "grids); equivariant maps take generator='spectral' or 'bilinear'")
    return _cached_equivariant(parse_group(group), as_space(space_in, 'space_in'),
                               as_space(space_out, 'space_out'),
                               Cutoff(softness=softness, tau=tau, kind=cutoff, decay=decay,
                                      rounding=rounding),
                               _check(method, METHODS, 'method'),
                               _check(generator, GENERATORS, 'generator'))


def clear_projector_cache() -> None:
    """Drop cached projectors and decompositions."""
    from . import equivariant, invariant
    _cached_invariant.cache_clear()
    _cached_equivariant.cache_clear()
    invariant.invariant_spectrum.cache_clear()
    invariant.block_spectra.cache_clear()
    equivariant._svd_spectrum.cache_clear()
    equivariant._joint_spectrum.cache_clear()
