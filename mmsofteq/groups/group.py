"""Groups as data: a named group is a list of abstract generators; a space realises them.

Supported groups (``parse_group``):

=========  ===========================================  ==================================
name       generators (in this order)                   meaning
=========  ===========================================  ==================================
``SO2``    ``so2`` (Lie) [+ ``rot90`` on grids]          continuous planar rotation
``O2``     ``SO2`` + ``flip_x`` (difference)             rotation and reflection
``Cn``     ``rot(360/n)`` [+ ``rot90``/``rot180`` on     cyclic group of order n
           grids when 4 | n / 2 | n], differences
``Dn``     ``Cn`` + ``flip_x``                           dihedral group of order 2n
``SO3``    ``so3_x``, ``so3_y``, ``so3_z`` (Lie)         3-D rotations (vector spaces only)
=========  ===========================================  ==================================

**Conjugation-closed reflections (invariant projectors on grids).** The stacked Gram
``Σ_g (ρ(g) − I)(ρ(g) − I)ᵀ`` commutes with every group element ``h`` only when the set of
``g`` is closed under conjugation (``h g h⁻¹``). One rotation and one flip are not
(``F R F = R⁻¹``, but ``R F R⁻¹ = R² F`` is another reflection), so ``all_reflections=True``
adds the flip composed with each exact grid rotation: ``flip_x``, ``rot90∘flip_x``,
``rot180∘flip_x``, ``rot270∘flip_x`` when the group holds the quarter turn (``O2``, ``Dn``
with 4 | n), ``flip_x`` and ``rot180∘flip_x`` with the half turn (``Dn`` with 2 | n). The
invariant projectors of ``O2``/``Dn`` then commute exactly with the grid's exact group
elements; the equivariant route keeps the plain list (its commuting classes rely on it).

**Discretisations.** ``discretisation='resampled'`` (the projectors' default) realises a group
on a grid as one ``kind='asymmetry'`` generator: the square root of the expected asymmetry
form under the evaluation's bilinear rotations (``groups.asymmetry``); on vector spaces, where
rotations are exact, it is ``'spectral'``. ``discretisation='spectral'`` is the above.
``'bilinear'`` is the paper's construction (the authors' public code) for ``Cn``/``Dn`` on grids: ``(R_n − I)/(2π/n)`` with
the bilinear rotation operator ``R_n`` (``grid.bilinear_rotation_operator``) and, for ``Dn``,
``(F − I)/π``; no companions. It is not normal for ``n ≠ 4``.

**Quarter-turn companions (grids only).** A square grid represents the quarter turn exactly but
any other rotation only approximately. When a ``GridSpace`` is involved (``on_grid=True``),
``SO2``/``O2`` add the exact ``rot90`` difference next to the spectral Lie generator, and ``Cn``
with ``n > 4`` adds ``rot90`` (4 | n) or ``rot180`` (2 | n) next to ``expm(2π/n · L) − I``.
The companion commutes with the rotation generator (shared eigenbasis), removes the spurious
null directions that the spectral generator has on even grids (the Nyquist mode), and makes
strict SO(2)/C8 projections exactly C4-invariant. The joint singular value of a direction is
``sqrt(σ_L² + σ_rot90²)``. On vector spaces rotations are exact and no companion is added.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Optional, Union

import numpy as np

from .generator import Generator
from .grid import (bilinear_rotation_operator, quarter_turn_operator, reflection_operator,
                   rotation_generator, rotation_operator, square_grid_size)
from .vector import so2_generator, so3_generator, vector_reflection, vector_rotation

GROUP_NAMES_HELP = "'SO2', 'O2', 'SO3', 'C<n>' or 'D<n>' (n >= 1, e.g. 'C4', 'C8', 'D4')"
#: The groups that act on images (everything but SO3), as error messages list them.
PLANAR_GROUP_NAMES_HELP = "'SO2', 'O2', 'C<n>' or 'D<n>' (n >= 1, e.g. 'C4', 'C8', 'D4')"
#: How rotations of a grid are discretised (``generator=`` of the projectors and ``softeq``).
DISCRETISATIONS = ('resampled', 'spectral', 'bilinear')
#: The rotated evaluation's default angles ``U(low, high)`` (degrees): ``mmsofteq.RotatedValLoop``
#: draws them (``mmsofteq.nn.evaluation_angles``), and the continuous groups' ``'resampled'``
#: generator and asymmetry measure use them unless given another ``angle_range``.
DEFAULT_ANGLE_RANGE = (-30.0, 30.0)


@dataclass(frozen=True)
class GeneratorSpec:
    """Abstract generator. ``kind='lie'``: ``axis`` of the rotation; ``'difference'``:
    ``ρ(g) − I`` for the rotation by ``angle`` radians or, if ``reflection``, the flip."""

    label: str
    kind: Literal['lie', 'difference']
    angle: float = 0.0
    axis: str = 'z'
    reflection: bool = False
    turns: int = 0             # reflection: ρ = rot90^turns ∘ flip_x
    bilinear: bool = False     # the paper's bilinear rotation operator
    step: float = 1.0          # difference generators: D = (ρ(g) − I) / step


@dataclass(frozen=True)
class Group:
    """A rotation group. ``order=None`` means continuous; ``reflection`` adds ``x → −x``."""

    name: str
    order: int | None
    reflection: bool
    three_dimensional: bool = False

    @property
    def continuous(self) -> bool:
        return self.order is None

    def generator_specs(self, on_grid: bool, all_reflections: bool = False,
                        discretisation: str = 'spectral') -> tuple[GeneratorSpec, ...]:
        """Abstract generators; ``on_grid`` adds the exact quarter/half-turn companions,
        ``all_reflections`` the conjugates of the flip (module docstring).

        Raises:
            ValueError: an unknown ``discretisation``, or ``'bilinear'`` for a group it cannot
                express (continuous or 3-D groups, ``C1``).
        """
        if discretisation not in DISCRETISATIONS:
            raise ValueError(f'generator must be one of {DISCRETISATIONS}, got '
                             f'{discretisation!r}')
        if discretisation == 'resampled':
            raise ValueError("generator='resampled' is one asymmetry form, not a list of "
                             'abstract generators: use Group.generators(grid_space, '
                             "discretisation='resampled')")
        if discretisation == 'bilinear':
            return self._bilinear_specs()
        specs: list[GeneratorSpec] = []
        if self.three_dimensional:
            specs += [GeneratorSpec(f'so3_{axis}', 'lie', axis=axis) for axis in 'xyz']
        elif self.order is None:
            specs.append(GeneratorSpec('so2', 'lie'))
            if on_grid:
                specs.append(GeneratorSpec('rot90', 'difference', angle=math.pi / 2))
        elif self.order > 1:
            n = self.order
            if n in (2, 4):
                specs.append(GeneratorSpec(f'rot{360 // n}', 'difference', angle=2 * math.pi / n))
            else:
                specs.append(GeneratorSpec(f'rot{360 / n:g}', 'difference', angle=2 * math.pi / n))
                if on_grid and n % 4 == 0:
                    specs.append(GeneratorSpec('rot90', 'difference', angle=math.pi / 2))
                elif on_grid and n % 2 == 0:
                    specs.append(GeneratorSpec('rot180', 'difference', angle=math.pi))
        if self.reflection:
            specs.append(GeneratorSpec('flip_x', 'difference', reflection=True))
            if all_reflections and on_grid:
                turns = (1, 2, 3) if self.order is None or self.order % 4 == 0 else (
                    (2, ) if self.order % 2 == 0 else ())
                specs += [GeneratorSpec(f'rot{90 * t}∘flip_x', 'difference', reflection=True,
                                        turns=t) for t in turns]
        return tuple(specs)

    def _bilinear_specs(self) -> tuple[GeneratorSpec, ...]:
        if self.order is None or self.three_dimensional or self.order < 2:
            raise ValueError(f"generator='bilinear' is the paper's discretisation of a cyclic "
                             f"or dihedral group of order n >= 2 ('C<n>' / 'D<n>', e.g. 'C36'); "
                             f'group {self.name} has no such rotation')
        angle = 2 * math.pi / self.order
        specs = [GeneratorSpec(f'bilinear_rot{360 / self.order:g}', 'difference', angle=angle,
                               bilinear=True, step=angle)]
        if self.reflection:
            specs.append(GeneratorSpec('flip_x', 'difference', reflection=True, step=math.pi))
        return tuple(specs)

    def generators(self, space: 'Space', on_grid: bool | None = None,
                   all_reflections: bool = False,
                   discretisation: str = 'spectral',
                   angle_range: tuple = DEFAULT_ANGLE_RANGE) -> tuple[Generator, ...]:
        """The group's generators realised on ``space``.

        Lists are aligned across spaces given the same ``on_grid`` (default: whether ``space``
        is a ``GridSpace``); an equivariant map passes ``on_grid`` = "either side is a grid".
        ``all_reflections`` and ``discretisation``: see :meth:`generator_specs`;
        ``angle_range``: the continuous groups' rotations of ``'resampled'`` (degrees).

        Raises:
            ValueError: ``discretisation='bilinear'`` on a space that is not a grid.
        """
        if on_grid is None:
            on_grid = isinstance(space, GridSpace)
        if discretisation == 'resampled':
            if isinstance(space, GridSpace) and not self.three_dimensional:
                from .asymmetry import asymmetry_generator  # asymmetry builds on Group
                return (asymmetry_generator(self, space.size, tuple(map(float, angle_range))),)
            discretisation = 'spectral'  # vectors rotate exactly
        if discretisation == 'bilinear' and not isinstance(space, GridSpace):
            raise ValueError("generator='bilinear' resamples images: it acts on grids only, "
                             f'not on {type(space).__name__}')
        return _realise(self, space, on_grid, all_reflections, discretisation)

    def commutes_with_quarter_turn(self, all_reflections: bool = False) -> bool:
        """Whether every grid generator (``generators(grid, all_reflections=...)``) commutes
        with the exact quarter turn: no reflection, or all four reflections of the square."""
        if not self.reflection:
            return True
        return all_reflections and (self.order is None or self.order % 4 == 0)

    def __str__(self) -> str:
        return self.name


def parse_group(group: Union[str, Group]) -> Group:
    """Parse ``'SO2' | 'O2' | 'SO3' | 'C<n>' | 'D<n>'`` (case-insensitive) into a ``Group``."""
    if isinstance(group, Group):
        return group
    if not isinstance(group, str):
        raise ValueError(f'group must be a string, one of {GROUP_NAMES_HELP}; got {group!r}')
    name = group.strip().upper()
    if name == 'SO2':
        return Group('SO2', None, False)
    if name == 'O2':
        return Group('O2', None, True)
    if name == 'SO3':
        return Group('SO3', None, False, three_dimensional=True)
    match = re.fullmatch(r'([CD])(\d+)', name)
    if match and int(match.group(2)) >= 1:
        return Group(name, int(match.group(2)), match.group(1) == 'D')
    raise ValueError(f'unknown group {group!r}: group must be one of {GROUP_NAMES_HELP}')


@dataclass(frozen=True)
class GridSpace:
    """Scalar field on a square ``size x size`` grid (``dim = size²``, row-major)."""

    size: int

    def __post_init__(self) -> None:
        object.__setattr__(self, 'size', square_grid_size(self.size))

    @classmethod
    def from_shape(cls, grid_shape: int | tuple[int, int]) -> 'GridSpace':
        return cls(square_grid_size(grid_shape))

    @property
    def dim(self) -> int:
        return self.size * self.size


@dataclass(frozen=True)
class VectorSpace:
    """``R^dim`` (dim 2 or 3) rotated as vectors; ``axis`` is the rotation axis in 3-D."""

    dim: int
    axis: str = 'z'

    def __post_init__(self) -> None:
        if self.dim not in (2, 3):
            raise ValueError(f'VectorSpace dim must be 2 or 3, got {self.dim}')
        if self.axis not in ('x', 'y', 'z'):
            raise ValueError(f"VectorSpace axis must be 'x', 'y' or 'z', got {self.axis!r}")


@dataclass(frozen=True)
class TrivialSpace:
    """``R^dim`` on which the group acts trivially (invariant outputs)."""

    dim: int = 1

    def __post_init__(self) -> None:
        if self.dim < 1:
            raise ValueError(f'TrivialSpace dim must be >= 1, got {self.dim}')


Space = Union[GridSpace, VectorSpace, TrivialSpace]


def _realise_spec(spec: GeneratorSpec, space: Space) -> np.ndarray:
    n = space.dim
    if isinstance(space, TrivialSpace):
        return np.zeros((n, n))
    if spec.kind == 'lie':
        if isinstance(space, GridSpace):
            if spec.label.startswith('so3'):
                raise ValueError('group SO3 acts on 3-D vectors only, not on a GridSpace')
            return np.array(rotation_generator(space.size))
        if space.dim == 2:
            if spec.label.startswith('so3'):
                raise ValueError('group SO3 needs a VectorSpace with dim=3, got dim=2')
            return so2_generator()
        return so3_generator(spec.axis if spec.label.startswith('so3') else space.axis)
    if spec.reflection:
        element = (reflection_operator(space.size) if isinstance(space, GridSpace)
                   else vector_reflection(space.dim))
        if spec.turns:
            element = quarter_turn_operator(space.size, spec.turns) @ element
    elif spec.bilinear:
        element = bilinear_rotation_operator(space.size, spec.angle)
    elif isinstance(space, GridSpace):
        element = rotation_operator(space.size, spec.angle)
    else:
        element = vector_rotation(space.dim, spec.angle, space.axis)
    return (element - np.eye(n)) / spec.step


@lru_cache(maxsize=256)
def _realise(group: Group, space: Space, on_grid: bool, all_reflections: bool = False,
             discretisation: str = 'spectral') -> tuple[Generator, ...]:
    specs = group.generator_specs(on_grid, all_reflections, discretisation)
    if not specs:
        return (Generator(np.zeros((space.dim, space.dim)), 'difference', 'identity'),)
    return tuple(Generator(_realise_spec(spec, space), spec.kind, spec.label, spec.step)
                 for spec in specs)


@lru_cache(maxsize=64)
def frequency_operator(space: Space) -> Optional[np.ndarray]:
    """``S = Lᵀ L`` (``N x N``, symmetric PSD) of the space's continuous rotation generator
    ``L``: its eigenvalues are the squared angular frequencies ``ω²`` of the fields. The
    secondary key of ``rounding='frequency'``: it commutes with the exact quarter turn, with
    the flip (``F L F = −L``) and with every rotation ``expm(t L)``. ``None`` on a
    ``TrivialSpace``."""
    if isinstance(space, TrivialSpace):
        return None
    if isinstance(space, GridSpace):
        generator = rotation_generator(space.size)
    else:
        generator = so2_generator() if space.dim == 2 else so3_generator(space.axis)
    operator = generator.T @ generator
    operator.setflags(write=False)
    return operator
