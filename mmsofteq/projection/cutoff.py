"""Which singular directions a projector keeps, and with what weight.

A constraint operator ``A`` (the generator(s) of an invariant layer, or the Kronecker-sum
constraint of an equivariant one) has singular values ``σ_1 ≤ ... ≤ σ_n``. A cutoff turns them
into weights ``m_i ∈ [0, 1]``; the projector is ``P = Σ_i m_i v_i v_iᵀ``.

**How many.** ``softness s ∈ [0, 1]`` (the paper's mapping): with ``z`` null directions, keep
the ``z + floor((n − z − 1)·s)`` first directions in the order below; ``s = 0`` keeps the null
space (strict equivariance), ``s = 1`` keeps everything (the layer is unchanged). Or
``tau τ ≥ 0`` (absolute): keep every direction with ``σ ≤ τ`` (Claim 1 is stated in ``τ``).

**Which: ``rounding``.**

* ``'frequency'`` (default): directions are ordered by ``σ``, and inside a degenerate cluster
  of ``σ`` (values equal within ``TIE_TOLERANCE``) by their angular frequency ``ω`` (the
  secondary key: ``ω² = vᵀ Lᵀ L v`` for the continuous rotation generator ``L`` of the space,
  after the cluster's basis was rotated to diagonalise ``Lᵀ L``). The cut is rounded up to the
  end of its joint ``(σ, ω)`` cluster. The kept set is a union of joint eigenspaces of two
  operators that commute with the group, so ``P`` commutes with it exactly, and the kept set
  only grows inside a ``σ`` cluster, so the certificate (which depends on ``σ`` only) holds.
  Discrete groups, whose differences have 3–4 distinct singular values, then tune in small
  steps instead of jumping from a third of the directions to all of them.
* ``'cluster'``: ordered by ``σ`` only; the cut is rounded up to the end of its ``σ`` cluster
  (mmsofteq 0.1; basis-independent, coarse for discrete groups).
* ``'index'``: the paper's rule: ``z = #(σ < 1e-5)`` and the first
  ``z + int((n − z − 1)·s)`` directions in the solver's order, cutting through clusters (so
  the result depends on the solver and does not commute with the group inside a cluster).

**Weights: ``kind``.** ``'hard'``: ``m_i = 1`` if kept else ``0`` (an orthogonal projector).
``'smooth'``: kept ``1``, others ``exp(−(σ_i − τ)/decay)``, ``τ`` the largest kept ``σ`` (paper
Eq. 55/56 with the decay as its own parameter). It keeps whole ``σ`` clusters only: the cluster
the softness count falls in is damped as a whole, so directions of equal ``σ`` get equal
weights. That is what makes the weighted asymmetry ``Σ m_i² σ_i² c_i² / Σ m_i² c_i²``
non-increasing as softness decreases (the weights' ratio ``m_i/m_j`` for ``σ_i > σ_j`` never
grows); a group whose asymmetry takes two values (C4, D4) has two smooth projectors, the
damped one for softness < 1 and the identity. ``'smooth_paper'``: the
paper's code, kept ``1``, others ``exp(−σ_i/(s + 1e-6))`` (not offset by the threshold).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Optional

import numpy as np

CutoffKind = Literal['hard', 'smooth', 'smooth_paper']
CUTOFF_KINDS = ('hard', 'smooth', 'smooth_paper')
ROUNDINGS = ('frequency', 'cluster', 'index')

#: σ ≤ NULL_TOLERANCE · max(1, σ_max) counts as an exact null direction.
NULL_TOLERANCE = 1e-6
#: σ values within TIE_TOLERANCE · max(1, σ_max) of each other form one degenerate cluster.
TIE_TOLERANCE = 1e-6
#: ω values within FREQUENCY_TOLERANCE · max(1, ω_max) of each other are tied.
FREQUENCY_TOLERANCE = 1e-6
#: The paper's null threshold (absolute) and its smooth-mask offset.
PAPER_NULL_THRESHOLD = 1e-5
PAPER_SMOOTH_EPSILON = 1e-6


@dataclass(frozen=True)
class Cutoff:
    """How to turn singular values into projector weights (exactly one of softness/tau)."""

    softness: float | None = None
    tau: float | None = None
    kind: CutoffKind = 'hard'
    decay: float | None = None
    rounding: str = 'frequency'

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
        if self.kind not in CUTOFF_KINDS:
            raise ValueError(f'cutoff must be one of {CUTOFF_KINDS}, got {self.kind!r}')
        if self.rounding not in ROUNDINGS:
            raise ValueError(f'rounding must be one of {ROUNDINGS}, got {self.rounding!r}')
        if self.kind == 'smooth':
            if self.decay is None or isinstance(self.decay, bool) \
                    or not isinstance(self.decay, (int, float)) or not float(self.decay) > 0 \
                    or math.isinf(self.decay):
                raise ValueError("cutoff='smooth' needs a finite decay > 0, got decay="
                                 f'{self.decay!r}')
            object.__setattr__(self, 'decay', float(self.decay))
        elif self.decay is not None:
            raise ValueError(f"decay is only used with cutoff='smooth', got decay={self.decay!r} "
                             f'with cutoff={self.kind!r}')
        if self.kind == 'smooth_paper' and self.tau is not None:
            raise ValueError("cutoff='smooth_paper' damps by exp(-σ/softness): it needs softness, "
                             'not tau')
        if self.rounding == 'index' and self.tau is not None:
            raise ValueError("rounding='index' counts directions from softness; with tau every "
                             "direction with σ <= tau is kept (use rounding='cluster')")

    @property
    def keeps_everything(self) -> bool:
        """True when the projector is the identity whatever the spectrum (softness 1)."""
        return self.softness == 1.0

    def describe(self) -> str:
        level = f's={self.softness:g}' if self.softness is not None else f'tau={self.tau:g}'
        decay = f',decay={self.decay:g}' if self.decay else ''
        return f'{self.kind}({level}{decay},{self.rounding})'


@dataclass(frozen=True)
class Selection:
    """The directions a cutoff keeps with weight 1.

    Attributes:
        kept: ``(n,)`` bool, in the order of the spectrum given to :func:`select`.
        tau: the largest kept ``σ`` (``inf`` for the identity, ``-inf`` when nothing is kept).
    """

    kept: np.ndarray
    tau: float


def _scale(values: np.ndarray) -> float:
    return max(1.0, float(np.max(values))) if values.size else 1.0


def null_directions(sigmas: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    """``(n,)`` bool: ``σ ≤ NULL_TOLERANCE · max(1, σ_max)`` and the same for each key."""
    null = np.asarray(sigmas) <= NULL_TOLERANCE * _scale(np.asarray(sigmas))
    for key in keys:
        null &= np.asarray(key) <= NULL_TOLERANCE * _scale(np.asarray(key))
    return null


def count_null_directions(sigmas: np.ndarray, *keys: np.ndarray) -> int:
    """Number of exact null directions (:func:`null_directions`)."""
    return int(np.count_nonzero(null_directions(sigmas, *keys)))


def cluster_labels(values: np.ndarray, tolerance: float) -> np.ndarray:
    """``(n,)`` int labels of runs of sorted ``values`` whose neighbours differ by ``≤ tolerance``
    (label order follows the values)."""
    order = np.argsort(values, kind='stable')
    gaps = np.diff(values[order]) > tolerance
    labels = np.empty(values.size, dtype=np.int64)
    labels[order] = np.concatenate([[0], np.cumsum(gaps)]) if values.size else []
    return labels


def _target_count(sigmas: np.ndarray, softness: float, paper: bool,
                  null_dim: Optional[int] = None) -> int:
    total = sigmas.size
    if paper:
        null_dim = int(np.count_nonzero(sigmas < PAPER_NULL_THRESHOLD))
        return min(total, null_dim + int((total - null_dim - 1) * softness))
    if null_dim is None:
        null_dim = count_null_directions(sigmas)
    kept = null_dim + int(math.floor((total - null_dim - 1) * softness + 1e-12))
    return min(max(kept, null_dim), total)


def _joint_clusters(sigmas: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``(n, 1 + m)`` int cluster labels: of ``σ``, then of each key column inside the joint
    cluster of the columns before it (labels follow the values)."""
    n = sigmas.size
    labels = [cluster_labels(sigmas, TIE_TOLERANCE * _scale(sigmas))]
    for column in keys.T:
        joint = np.unique(np.stack(labels, axis=1), axis=0, return_inverse=True)[1].ravel()
        column_labels = np.empty(n, dtype=np.int64)
        for label in np.unique(joint):
            members = joint == label
            column_labels[members] = cluster_labels(column[members],
                                                    FREQUENCY_TOLERANCE * _scale(column))
        labels.append(column_labels)
    return np.stack(labels, axis=1)


def select(sigmas: np.ndarray, cutoff: Cutoff, keys: Optional[np.ndarray] = None,
           primary_keys: int = 0) -> Selection:
    """The directions ``cutoff`` keeps (see the module docstring for the rules).

    Args:
        sigmas: ``(n,)`` singular values in the solver's order, float64.
        cutoff: the rule.
        keys: ``(n,)`` or ``(n, m)`` secondary keys, compared lexicographically after ``σ``
            (``None``: none). ``rounding='frequency'`` orders and rounds by all of them,
            ``'cluster'`` by the first ``primary_keys`` only.
        primary_keys: how many key columns belong to the primary order: they take part in
            the null count (a direction is null when ``σ`` and these keys are ~0) and in
            ``'cluster'`` rounding. ``generator='resampled'`` passes its exact-element key.
    """
    sigmas = np.asarray(sigmas, dtype=np.float64).ravel()
    n = sigmas.size
    keys = np.zeros((n, 0)) if keys is None else np.asarray(keys, np.float64).reshape(n, -1)
    if not 0 <= primary_keys <= keys.shape[1]:
        raise ValueError(f'primary_keys must be in [0, {keys.shape[1]}], got {primary_keys}')
    used = keys.shape[1] if cutoff.rounding == 'frequency' else primary_keys
    labels = _joint_clusters(sigmas, keys[:, :used])
    sigma_cluster = labels[:, 0]
    null = null_directions(sigmas, *keys[:, :primary_keys].T)
    if cutoff.keeps_everything or n == 0:
        kept = np.ones(n, dtype=bool)
    elif cutoff.tau is not None:
        kept = sigmas <= cutoff.tau + TIE_TOLERANCE * _scale(sigmas)
        kept = np.isin(sigma_cluster, np.unique(sigma_cluster[kept]))
    else:
        paper = cutoff.rounding == 'index'
        count = _target_count(sigmas, cutoff.softness, paper, int(np.count_nonzero(null)))
        kept = np.zeros(n, dtype=bool)
        if count > 0 and paper:
            kept[np.argsort(sigmas, kind='stable')[:count]] = True
        elif count > 0:
            order = np.lexsort((np.arange(n),) + tuple(labels.T[::-1]))
            last = labels[order[count - 1]]
            # the joint cluster of the last direction, and every one before it
            before = np.zeros(n, dtype=bool)
            equal = np.ones(n, dtype=bool)
            for column, value in zip(labels.T, last):
                before |= equal & (column < value)
                equal &= column == value
            kept = before | equal
        if cutoff.kind == 'smooth':
            # whole σ clusters only: a partly kept cluster is damped as a whole (module
            # docstring), so equal σ get equal weights and nothing below the cut is kept
            # at weight 1 by accident
            partial = np.unique(sigma_cluster[~kept])
            kept &= ~np.isin(sigma_cluster, partial)
    if not kept.any():
        return Selection(kept, -math.inf)
    if kept.all():
        tie = TIE_TOLERANCE * _scale(sigmas)
        tau = math.inf if cutoff.keeps_everything else float(sigmas.max()) + tie
    else:
        tau = float(sigmas[kept].max())
    return Selection(kept, tau)


def weights(sigmas: np.ndarray, cutoff: Cutoff, selection: Selection) -> np.ndarray:
    """Projector weights ``m_i`` (same shape as ``sigmas``) for the kept directions."""
    sigmas = np.asarray(sigmas, dtype=np.float64)
    kept = selection.kept.reshape(sigmas.shape)
    if cutoff.kind == 'hard':
        return kept.astype(np.float64)
    if cutoff.kind == 'smooth_paper':
        damped = np.exp(-sigmas / (cutoff.softness + PAPER_SMOOTH_EPSILON))
    else:
        offset = selection.tau if math.isfinite(selection.tau) else 0.0
        damped = np.exp(-np.maximum(sigmas - offset, 0.0) / cutoff.decay)
    return np.where(kept, 1.0, damped)
