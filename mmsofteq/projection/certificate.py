"""The guarantee a projector carries (printed per layer by the tools)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from .cutoff import Cutoff, count_null_directions


@dataclass(frozen=True)
class ProjectionCertificate:
    """What a projector keeps and what it guarantees.

    Attributes:
        group: group name, e.g. ``'C4'``.
        kept: directions with weight 1 (``σ ≤ cutoff_used``).
        total: dimension ``n`` of the weight space the projector acts on.
        null_dim: exactly equivariant directions (``σ ≈ 0``).
        cutoff_used: the threshold ``τ`` (``inf`` for the identity, ``-inf`` if nothing kept).
        bound: ``β = max_i m_i σ_i = ‖A P‖₂``, where ``A`` stacks the group's constraints
            (one per generator) and ``m_i`` are the projector's weights. For every generator
            ``D`` of the group and every ``θ``, with ``W = P(θ)``:

            * difference generator (``D = ρ(g) − I``):
              ``‖W ρ_in(g) − ρ_out(g) W‖_F ≤ β ‖θ‖_F``, and ``≤ m·β ‖θ‖_F`` for ``g^m``;
            * Lie generator ``L`` (rotation by ``t`` radians):
              ``‖W e^{t L_in} − e^{t L_out} W‖_F ≤ |t| β ‖θ‖_F``.

            Invariant layers are the case ``ρ_out = I`` (per output row / kernel slice).
            With the hard cutoff ``β ≤ τ`` (Claim 1); ``β = 0`` means exact equivariance.
            For the paper's normalised differences ``D = (ρ(g) − I)/t`` (``generator=
            'bilinear'``, ``steps`` holds each ``t``) the difference bound reads
            ``‖W ρ(g) − ρ(g) W‖_F ≤ t β ‖θ‖_F`` for that ``g`` only: such a ``D`` is not normal
            and generates no one-parameter group, so nothing is claimed for other angles.
            Kernels use the left singular vectors (``‖(ρ(g) − I)ᵀ w‖``), data-side grids the
            right ones (``‖(ρ(g) − I) p‖``), matching the bound to the side.
            For ``generator='resampled'`` (one ``kind='asymmetry'`` generator ``Q_μ^{1/2}``)
            ``β`` bounds the root-mean-square asymmetry under the rotation measure ``μ``
            (``labels``: e.g. ``U(-30°,30°)``) that the evaluation applies:
            ``sqrt(E_{T∼μ} ‖V_T (T − I) W‖²) ≤ β ‖θ‖`` per slice or grid channel, with ``T``
            the real bilinear resampling (``groups.asymmetry``).
        method: ``'svd'`` or ``'schur'`` (the route that built the projector).
        cutoff: the rule that was asked for.
        generator: the discretisation, ``'spectral'`` or ``'bilinear'``.
        labels, steps: the generators' labels and difference steps ``t`` (1 for plain
            differences and Lie generators).
        exact_bound: ``generator='resampled'`` only: ``max_i m_i sqrt(q_i)`` with ``q_i`` the
            exact-element form (``groups.exact_asymmetry_form``) on each direction, so that
            ``‖(ρ(g) − I) W‖_F ≤ exact_bound · ‖θ‖_F`` for each exact generator ``g`` of the
            group on the grid (the quarter turn, the reflections); ``None`` otherwise.
    """

    group: str
    kept: int
    total: int
    null_dim: int
    cutoff_used: float
    bound: float
    method: str
    cutoff: Cutoff
    generator: str = 'spectral'
    labels: tuple = ()
    steps: tuple = ()
    exact_bound: Optional[float] = None

    @classmethod
    def from_spectrum(cls, group: str, sigmas: np.ndarray, masks: np.ndarray, tau: float,
                      method: str, cutoff: Cutoff, generators: Sequence = (),
                      generator: str = 'spectral',
                      exact_keys: Optional[np.ndarray] = None) -> 'ProjectionCertificate':
        """``exact_keys``: ``(n,)`` ``sqrt(q_i)`` of ``generator='resampled'``; a direction is
        null when both ``σ_i`` and ``q_i`` vanish."""
        sigmas = np.asarray(sigmas, dtype=np.float64).ravel()
        masks = np.asarray(masks, dtype=np.float64).ravel()
        null_dim = count_null_directions(sigmas)
        exact_bound = None
        if exact_keys is not None:
            exact_keys = np.asarray(exact_keys, dtype=np.float64).ravel()
            null_dim = count_null_directions(sigmas, exact_keys)
            exact_bound = float((masks * exact_keys).max()) if exact_keys.size else 0.0
        return cls(group=group, kept=int(np.count_nonzero(masks >= 1.0)), total=sigmas.size,
                   null_dim=null_dim, cutoff_used=float(tau),
                   bound=float((masks * sigmas).max()) if sigmas.size else 0.0,
                   method=method, cutoff=cutoff, generator=generator,
                   labels=tuple(g.label for g in generators),
                   steps=tuple(float(g.step) for g in generators), exact_bound=exact_bound)

    @property
    def is_identity(self) -> bool:
        return self.cutoff.kind == 'hard' and self.kept == self.total

    def as_row(self) -> dict:
        tau = self.cutoff_used
        return dict(group=self.group, kept=f'{self.kept}/{self.total}', null=self.null_dim,
                    tau='inf' if tau == math.inf else ('-' if tau == -math.inf else f'{tau:.4g}'),
                    bound=f'{self.bound:.4g}', method=self.method, generator=self.generator,
                    cutoff=self.cutoff.describe())
