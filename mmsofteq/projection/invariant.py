"""Invariant projectors: the weight of a layer that should not see the group action.

A layer row ``w ∈ R^N`` applied to ``x`` is invariant when ``w D_k = 0`` for every generator
``D_k`` (``w ρ(g) = w``). Stack ``A = [D_1, ..., D_K]`` (``N x KN``); its left singular
vectors ``u_i`` with singular values ``σ_i`` give ``P = Σ_i m_i u_i u_iᵀ`` (``m_i`` from the
cutoff).

Routes (identical projectors):
    * ``'svd'``: ``numpy.linalg.svd(A)``.
    * ``'schur'``: the symmetric eigendecomposition of ``A Aᵀ = Σ_k D_k D_kᵀ`` (``σ_i²``);
      exact for any generators, cheaper than the SVD of the wide ``A``.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np
from scipy.linalg import eigh

from ..groups import Generator
from .certificate import ProjectionCertificate
from .cutoff import Cutoff, threshold, weights
from .projector import InvariantProjector


@lru_cache(maxsize=128)
def invariant_spectrum(generators: Sequence[Generator], method: str) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    """Singular values ``σ`` ``(N,)`` and left singular vectors ``U`` ``(N, N)`` of ``A``.

    Cached per (generators, route): a sweep over softness decomposes once.
    """
    stacked = np.concatenate([g.matrix for g in generators], axis=1)
    if method == 'svd':
        basis, sigmas, _ = np.linalg.svd(stacked, full_matrices=True)
        if sigmas.size < basis.shape[0]:
            sigmas = np.concatenate([sigmas, np.zeros(basis.shape[0] - sigmas.size)])
        return _readonly(sigmas), _readonly(basis)
    if method == 'schur':
        squared, basis = eigh(stacked @ stacked.T)
        return _readonly(np.sqrt(np.clip(squared, 0.0, None))), _readonly(basis)
    raise ValueError(f"method must be 'svd', 'schur' or 'auto', got {method!r}")


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def build_invariant_projector(group_name: str, generators: Sequence[Generator], cutoff: Cutoff,
                              method: str) -> InvariantProjector:
    """Projector for generators realised on one space (see module docstring).

    ``generators`` must be hashable (a tuple of ``Generator``) for the spectrum cache.
    """
    generators = tuple(generators)
    size = generators[0].dim
    if cutoff.keeps_everything:
        # Identity, but the certificate still reports the spectrum's bound (σ_max).
        sigmas = invariant_spectrum(generators, 'schur' if method == 'auto' else method)[0]
        certificate = ProjectionCertificate.from_spectrum(
            group_name, sigmas, np.ones_like(sigmas), np.inf, method, cutoff)
        return InvariantProjector(np.eye(size), certificate)
    route = 'schur' if method == 'auto' else method
    sigmas, basis = invariant_spectrum(generators, route)
    tau = threshold(sigmas, cutoff)
    masks = weights(sigmas, cutoff, tau)
    matrix = (basis * masks) @ basis.T
    matrix = 0.5 * (matrix + matrix.T)
    certificate = ProjectionCertificate.from_spectrum(group_name, sigmas, masks, tau, route,
                                                      cutoff)
    return InvariantProjector(matrix, certificate)
