"""How ``P`` acts on a re-parameterised tensor: one class per tensor layout (a rule's ``target``).

A projection object carries everything "where to project" needs: the ``grid`` ``(h, w)`` its
projector ``P`` (``h·w x h·w``) acts on, the ``side`` of that projector
(:func:`mmsofteq.projection.invariant_projector`: ``'kernel'`` for conv kernels, ``'data'``
for grids of data-side fields), the rule ``target`` naming it in configs, and how ``P`` is
applied to ``θ`` (``__call__``) and which slices it acts on (``fields``). :data:`PROJECTIONS`
maps each rule ``target`` to its class; :func:`mmsofteq.nn.reparam.project_parameter` stores
the object on the module.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Dict, Optional, Tuple, Type, Union

import torch
from torch import nn

if TYPE_CHECKING:  # pragma: no cover
    from .rules import Rule

Grid = Tuple[int, int]


def _check_grid(projection: object) -> None:
    """A projection's ``grid`` is ``(h, w)`` of positive ints (a positional argument meant for
    another field, e.g. ``GridProjection(1)``, fails here instead of projecting nonsense)."""
    grid = projection.grid
    if not (isinstance(grid, tuple) and len(grid) == 2 and
            all(isinstance(size, numbers.Integral) and not isinstance(size, bool) and size > 0
                for size in grid)):
        raise ValueError(f'{type(projection).__name__}: grid must be (h, w) of positive ints, '
                         f'got {grid!r}')


@dataclass(frozen=True)
class KernelProjection:
    """Conv kernel ``θ (O, I, k, k)``: ``W_eff[o, i] = P vec(θ[o, i])`` (``P`` is ``k² x k²``,
    symmetric, acting on the row-major flattened ``k x k`` slice).

    Attributes:
        grid: ``(k, k)``, the kernel's spatial shape.
    """

    grid: Grid
    #: The rule ``target`` of this projection, the projector's side, the tensor in messages.
    target: ClassVar[str] = 'kernel'
    side: ClassVar[str] = 'kernel'
    noun: ClassVar[str] = 'kernel'
    #: What a rule of this target may match (for the error of a rule that matches nothing).
    rule_domain: ClassVar[str] = 'Conv2d weight (nor deformable-conv weight)'
    #: What a rule's ``grid=`` gives (``None``: the rule takes no ``grid``).
    rule_grid: ClassVar[Optional[str]] = None

    def __post_init__(self) -> None:
        _check_grid(self)

    def __call__(self, theta: torch.Tensor, projector: torch.Tensor) -> torch.Tensor:
        return torch.matmul(theta.flatten(2), projector).reshape(theta.shape)

    def fields(self, theta: torch.Tensor) -> torch.Tensor:
        """The ``(O·I, k²)`` slices ``P`` acts on."""
        return theta.flatten(2).reshape(-1, theta.shape[-2] * theta.shape[-1])

    def describe(self) -> str:
        return 'kernel'


@dataclass(frozen=True)
class GridProjection:
    """Position embedding ``θ (1, prefix + h·w, C)``: ``pos_eff[:, prefix:] = P θ[:, prefix:]``
    (``P`` is ``h·w x h·w`` on the row-major grid); the ``prefix`` cls/register tokens are
    returned unchanged.

    Attributes:
        grid: ``(h, w)`` of the token grid.
        prefix_tokens: the leading tokens that are no grid cell.
    """

    grid: Grid
    prefix_tokens: int = 0
    target: ClassVar[str] = 'pos_grid'
    side: ClassVar[str] = 'data'
    noun: ClassVar[str] = 'position grid'
    rule_domain: ClassVar[str] = 'parameter'
    rule_grid: ClassVar[Optional[str]] = ("an attribute path on the backbone such as "
                                          "'patch_resolution', or (h, w)")

    def __post_init__(self) -> None:
        _check_grid(self)

    @classmethod
    def for_rule(cls, rule: 'Rule', rule_key: str, name: str, parameter: torch.Tensor,
                 backbone: nn.Module, owner: nn.Module) -> 'GridProjection':
        """The projection of ``parameter`` (state-dict key ``name``) that ``rule`` (of the
        backbone key ``rule_key``) matched; ``rule.grid`` is resolved on ``backbone``."""
        height, width = rule.grid_shape(backbone)
        if parameter.dim() != 3:
            raise ValueError(f'{name}: a pos_grid rule needs a (1, tokens, channels) tensor, '
                             f'got shape {tuple(parameter.shape)}')
        prefix = parameter.shape[1] - height * width
        if prefix < 0:
            raise ValueError(f'{name}: {parameter.shape[1]} tokens cannot hold the '
                             f'{height}x{width} grid given by rule {rule.as_dict()} of '
                             f'{rule_key}')
        return cls((height, width), prefix)

    def __call__(self, theta: torch.Tensor, projector: torch.Tensor) -> torch.Tensor:
        grid = torch.matmul(projector, theta[:, self.prefix_tokens:])
        if self.prefix_tokens == 0:
            return grid
        return torch.cat((theta[:, :self.prefix_tokens], grid), dim=1)

    def fields(self, theta: torch.Tensor) -> torch.Tensor:
        """The ``(C, h·w)`` grid channels ``P`` acts on."""
        return theta[0, self.prefix_tokens:].T

    def describe(self) -> str:
        return f'grid(prefix={self.prefix_tokens})'


@dataclass(frozen=True)
class OffsetGridProjection:
    """Relative-position bias table ``θ (n + extra, heads)`` whose first ``n = (2Wh-1)(2Ww-1)``
    rows are the row-major grid of token offsets ``Δ = p - q`` (Swin, BEiT: row
    ``(Δrow + Wh - 1)(2Ww - 1) + Δcol + Ww - 1``): ``table_eff[:n] = P θ[:n]`` (``P`` is
    ``n x n`` on that grid); the ``extra_rows`` trailing rows (BEiT's cls-token biases) are
    returned unchanged.

    A rotation of the image by ``R`` moves tokens ``p -> Rp`` and offsets ``Δ -> RΔ``, i.e. it
    rotates the offset grid about its centre cell ``Δ = 0`` exactly as it rotates a position
    grid about its centre, rows being the image's rows: a bias ``B(Δ)`` that is invariant
    under that rotation gives attention logits that permute with the tokens. (A transposed or
    sign-flipped index would give the same invariant subspace: transposes and ``-I`` normalise
    the rotation group.)

    Attributes:
        grid: ``(2Wh - 1, 2Ww - 1)``, the offsets of a ``Wh x Ww`` window.
        extra_rows: the trailing rows that are no offset.
    """

    grid: Grid
    extra_rows: int = 0
    target: ClassVar[str] = 'offset_grid'
    side: ClassVar[str] = 'data'
    noun: ClassVar[str] = 'offset grid'
    rule_domain: ClassVar[str] = 'parameter'
    rule_grid: ClassVar[Optional[str]] = ("the token window: an attribute path on the table's "
                                          "module such as 'window_size', or (Wh, Ww)")

    def __post_init__(self) -> None:
        _check_grid(self)

    @classmethod
    def for_rule(cls, rule: 'Rule', rule_key: str, name: str, parameter: torch.Tensor,
                 backbone: nn.Module, owner: nn.Module) -> 'OffsetGridProjection':
        """The projection of the table ``parameter`` ``(L, heads)`` that ``rule`` matched;
        ``rule.grid`` (resolved on the table's ``owner``) is the window ``(Wh, Ww)``."""
        window_h, window_w = rule.grid_shape(owner)
        height, width = 2 * window_h - 1, 2 * window_w - 1
        if parameter.dim() != 2:
            raise ValueError(f'{name}: an offset_grid rule needs an (offsets, heads) table, got '
                             f'shape {tuple(parameter.shape)}')
        extra = parameter.shape[0] - height * width
        if extra < 0:
            raise ValueError(f'{name}: {parameter.shape[0]} rows cannot hold the {height}x'
                             f'{width} offsets of the {window_h}x{window_w} window given by '
                             f'rule {rule.as_dict()} of {rule_key}')
        return cls((height, width), extra)

    def __call__(self, theta: torch.Tensor, projector: torch.Tensor) -> torch.Tensor:
        if self.extra_rows == 0:
            return torch.matmul(projector, theta)
        rows = theta.shape[0] - self.extra_rows
        return torch.cat((torch.matmul(projector, theta[:rows]), theta[rows:]), dim=0)

    def fields(self, theta: torch.Tensor) -> torch.Tensor:
        """The ``(heads, n)`` offset-grid columns ``P`` acts on."""
        return theta[:theta.shape[0] - self.extra_rows].T

    def describe(self) -> str:
        return f'offset_grid(extra_rows={self.extra_rows})'


Projection = Union[KernelProjection, GridProjection, OffsetGridProjection]
#: Rule ``target`` -> the projection class it names.
PROJECTIONS: Dict[str, Type[Projection]] = {
    cls.target: cls for cls in (KernelProjection, GridProjection, OffsetGridProjection)}
