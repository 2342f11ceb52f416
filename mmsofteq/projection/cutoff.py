"""Which singular directions a projector keeps, and with what weight.

A constraint operator ``A`` (the generator(s) of an invariant layer, or the Kronecker-sum
constraint of an equivariant one) has singular values ``σ_1 ≤ ... ≤ σ_n`` (ascending).
A cutoff turns them into weights ``m_i ∈ [0, 1]``; the projector is ``P = Σ_i m_i v_i v_iᵀ``.

* ``softness s ∈ [0, 1]`` (the reference mapping): with ``z`` null directions (``σ ≈ 0``),
  keep the ``z + floor((n − z − 1)·s)`` smallest; ``s = 0`` keeps the null space (strict
  equivariance), ``s = 1`` keeps everything (the layer is unchanged).
* ``tau τ ≥ 0`` (absolute): keep every direction with ``σ ≤ τ`` (Claim 1 is stated in ``τ``).

The threshold is then rounded **up to the end of a degenerate cluster** (directions whose
``σ`` agree within ``TIE_TOLERANCE``), so the projector does not depend on which basis a
solver picked inside an eigenspace: the SVD and Schur routes give the same ``P``.

``kind='hard'``: ``m_i = 1`` if ``σ_i ≤ τ`` else ``0`` (an orthogonal projector).
``kind='smooth'``: ``m_i = 1`` if ``σ_i ≤ τ`` else ``exp(−(σ_i − τ)/decay)`` (paper Eq. 55/56,
with the decay as its own parameter).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

CutoffKind = Literal['hard', 'smooth']

#: σ ≤ NULL_TOLERANCE · max(1, σ_max) counts as an exact null direction.
NULL_TOLERANCE = 1e-6
#: σ values within TIE_TOLERANCE · max(1, σ_max) of each other form one degenerate cluster.
TIE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Cutoff:
    """How to turn singular values into projector weights (exactly one of softness/tau)."""

    softness: float | None = None
    tau: float | None = None
    kind: CutoffKind = 'hard'
    decay: float | None = None

    def __post_init__(self) -> None:
        if (self.softness is None) == (self.tau is None):
            raise ValueError('give exactly one of softness (in [0, 1]) or tau (>= 0), got '
                             f'softness={self.softness!r}, tau={self.tau!r}')
        if self.softness is not None:
            if isinstance(self.softness, bool) or not isinstance(self.softness, (int, float)) \
                    or not 0.0 <= float(self.softness) <= 1.0 or math.isnan(self.softness):
                raise ValueError(f'softness must be a number in [0, 1], got {self.softness!r}')
            object.__setattr__(self, 'softness', float(self.softness))
        if self.tau is not None:
            if isinstance(self.tau, bool) or not isinstance(self.tau, (int, float)) \
                    or not float(self.tau) >= 0.0:
                raise ValueError(f'tau must be a number >= 0, got {self.tau!r}')
            object.__setattr__(self, 'tau', float(self.tau))
        if self.kind not in ('hard', 'smooth'):
            raise ValueError(f"cutoff must be 'hard' or 'smooth', got {self.kind!r}")
        if self.kind == 'smooth':
            if self.decay is None or isinstance(self.decay, bool) \
                    or not isinstance(self.decay, (int, float)) or not float(self.decay) > 0:
                raise ValueError(f"cutoff='smooth' needs decay > 0, got decay={self.decay!r}")
            object.__setattr__(self, 'decay', float(self.decay))
        elif self.decay is not None:
            raise ValueError(f"decay is only used with cutoff='smooth', got decay={self.decay!r} "
                             "with cutoff='hard'")

    @property
    def keeps_everything(self) -> bool:
        """True when the projector is the identity whatever the spectrum (softness 1)."""
        return self.softness == 1.0

    def describe(self) -> str:
        level = f's={self.softness:g}' if self.softness is not None else f'tau={self.tau:g}'
        return f'{self.kind}({level}' + (f', decay={self.decay:g})' if self.decay else ')')


def _scale(sigmas: np.ndarray) -> float:
    return max(1.0, float(sigmas.max())) if sigmas.size else 1.0


def count_null_directions(sigmas: np.ndarray) -> int:
    """Number of exact null directions (``σ ≤ NULL_TOLERANCE · max(1, σ_max)``)."""
    return int(np.count_nonzero(sigmas <= NULL_TOLERANCE * _scale(sigmas)))


def threshold(sigmas: np.ndarray, cutoff: Cutoff) -> float:
    """The cutoff ``τ`` actually used: directions with ``σ ≤ τ`` get weight 1.

    Args:
        sigmas: ``(n,)`` singular values (any order), float64.
        cutoff: the rule.

    Returns:
        ``τ``, rounded up to the end of its degenerate cluster; ``inf`` for softness 1 and
        ``-inf`` when nothing is kept (softness 0 with an empty null space).
    """
    if cutoff.keeps_everything:
        return math.inf
    ascending = np.sort(np.asarray(sigmas, dtype=np.float64))
    if cutoff.tau is not None:
        tau = cutoff.tau
    else:
        total = ascending.size
        null_dim = count_null_directions(ascending)
        kept = null_dim + int(math.floor((total - null_dim - 1) * cutoff.softness + 1e-12))
        kept = min(max(kept, null_dim), total)
        if kept == 0:
            return -math.inf
        tau = float(ascending[kept - 1])
    tie = TIE_TOLERANCE * _scale(ascending)
    cluster_end = ascending[ascending <= tau + tie]
    return float(cluster_end[-1]) + tie if cluster_end.size else tau


def weights(sigmas: np.ndarray, cutoff: Cutoff, tau: float) -> np.ndarray:
    """Projector weights ``m_i`` (same shape as ``sigmas``) for the threshold ``tau``."""
    sigmas = np.asarray(sigmas, dtype=np.float64)
    kept = sigmas <= tau
    if cutoff.kind == 'hard':
        return kept.astype(np.float64)
    base = tau if math.isfinite(tau) else 0.0
    return np.where(kept, 1.0, np.exp(-(sigmas - base) / cutoff.decay))
