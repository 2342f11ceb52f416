"""A group generator acting on a finite-dimensional real vector space."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

GeneratorKind = Literal['lie', 'difference', 'asymmetry']


@dataclass(frozen=True, eq=False)
class Generator:
    """One generator ``D`` (an ``N x N`` float64 matrix) of a group action.

    Attributes:
        matrix: ``(N, N)`` float64, read-only.
            * ``kind='lie'``: a Lie-algebra element ``L`` with ``ρ(exp(tL)) = expm(t·L)``
              for a rotation by ``t`` radians. Equivariance error of a layer under a rotation
              by ``t`` is bounded by ``|t|`` times the constraint norm (see ``certificate``).
            * ``kind='difference'``: the forward difference ``(ρ(g) − I) / step`` of a
              discrete group element ``g`` (a quarter turn, a reflection, ...); ``step`` is 1
              except for the paper's normalised differences (``step`` = the rotation angle,
              or π for a reflection).
            * ``kind='asymmetry'``: the symmetric square root ``Q_μ^{1/2}`` of the expected
              asymmetry form of a rotation measure (``groups.asymmetry``):
              ``‖D w‖² = E_{T∼μ} ‖V_T (T − I) w‖²``.
        kind: ``'lie'``, ``'difference'`` or ``'asymmetry'``.
        label: human-readable name, e.g. ``'rot90'``, ``'so2'``, ``'flip_x'``.
        step: the normalisation of a difference generator: ``ρ(g) − I = step · matrix``.
    """

    matrix: np.ndarray
    kind: GeneratorKind
    label: str
    step: float = 1.0

    def __post_init__(self) -> None:
        matrix = np.array(self.matrix, dtype=np.float64, copy=True)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f'generator matrix must be square, got shape {matrix.shape}')
        if self.kind not in ('lie', 'difference', 'asymmetry'):
            raise ValueError("kind must be 'lie', 'difference' or 'asymmetry', got "
                             f'{self.kind!r}')
        if not float(self.step) > 0:
            raise ValueError(f'step must be > 0, got {self.step!r}')
        matrix.setflags(write=False)
        object.__setattr__(self, 'matrix', matrix)

    @property
    def dim(self) -> int:
        return self.matrix.shape[0]
