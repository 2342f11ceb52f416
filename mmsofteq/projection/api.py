"""Public functional API: cached projector construction.

Every call normalises its arguments into hashable values and goes through an LRU cache keyed by
``(group, space(s), cutoff, method)``; projectors are immutable, so sharing them is safe.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Optional, Union

from ..groups import GridSpace, Group, Space, TrivialSpace, VectorSpace, parse_group
from .cutoff import Cutoff
from .equivariant import build_equivariant_projector
from .invariant import build_invariant_projector
from .projector import EquivariantProjector, InvariantProjector

METHODS = ('auto', 'svd', 'schur')
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


def make_cutoff(softness: Optional[float], tau: Optional[float], cutoff: str,
                decay: Optional[float]) -> Cutoff:
    return Cutoff(softness=softness, tau=tau, kind=cutoff, decay=decay)


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f'method must be one of {METHODS}, got {method!r}')
    return method


@lru_cache(maxsize=512)
def _cached_invariant(group: Group, space: Space, cutoff: Cutoff,
                      method: str) -> InvariantProjector:
    grid_symmetry = None
    if isinstance(space, GridSpace):
        # Every generator's D Dᵀ commutes with the exact quarter turn, or with the half turn
        # when the group contains the reflection.
        grid_symmetry = (space.size, not group.reflection)
    return build_invariant_projector(group.name, group.generators(space), cutoff, method,
                                     grid_symmetry)


@lru_cache(maxsize=256)
def _cached_equivariant(group: Group, space_in: Space, space_out: Space, cutoff: Cutoff,
                        method: str) -> EquivariantProjector:
    on_grid = isinstance(space_in, GridSpace) or isinstance(space_out, GridSpace)
    return build_equivariant_projector(group.name, group.generators(space_in, on_grid),
                                       group.generators(space_out, on_grid), cutoff, method)


def invariant_projector(group: Union[str, Group], space: SpaceLike, *,
                        softness: Optional[float] = None, tau: Optional[float] = None,
                        cutoff: str = 'hard', decay: Optional[float] = None,
                        method: str = 'auto') -> InvariantProjector:
    """Cached projector ``P`` (``N x N``) for an invariant layer on ``space``.

    Args:
        group: ``'SO2' | 'O2' | 'C<n>' | 'D<n>' | 'SO3'`` or a ``Group``.
        space: a ``Space``; an int ``k`` or ``(k, k)`` means a ``k x k`` scalar grid.
        softness: in ``[0, 1]`` (0 strict, 1 identity). Exactly one of softness / tau.
        tau: absolute cutoff ``τ >= 0`` on the singular values.
        cutoff: ``'hard'`` or ``'smooth'`` (needs ``decay > 0``).
        method: ``'auto'`` (= ``'schur'``), ``'svd'`` or ``'schur'``.
    """
    return _cached_invariant(parse_group(group), as_space(space), make_cutoff(
        softness, tau, cutoff, decay), _check_method(method))


def equivariant_projector(group: Union[str, Group], space_in: SpaceLike, space_out: SpaceLike,
                          *, softness: Optional[float] = None, tau: Optional[float] = None,
                          cutoff: str = 'hard', decay: Optional[float] = None,
                          method: str = 'auto') -> EquivariantProjector:
    """Cached projector on maps ``W: space_in → space_out`` (``W`` is ``(N_out, N_in)``).

    ``'auto'`` uses the Schur route and falls back to the dense SVD (``n <= 4096``) when the
    generators are not normal. Other arguments as in ``invariant_projector``.
    """
    return _cached_equivariant(parse_group(group), as_space(space_in, 'space_in'),
                               as_space(space_out, 'space_out'),
                               make_cutoff(softness, tau, cutoff, decay), _check_method(method))


def clear_projector_cache() -> None:
    """Drop cached projectors and decompositions."""
    from . import equivariant, invariant
    _cached_invariant.cache_clear()
    _cached_equivariant.cache_clear()
    invariant.invariant_spectrum.cache_clear()
    equivariant._svd_spectrum.cache_clear()
    equivariant._joint_spectrum.cache_clear()
