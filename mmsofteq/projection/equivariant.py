"""Equivariant projectors: maps ``W: R^{N_in} → R^{N_out}`` that commute with the group.

Constraint per generator pair ``(D_in, D_out)``: ``W D_in − D_out W = 0``, i.e. on the
column-major ``vec(W)``:

    ``C = D_inᵀ ⊗ I_out − I_in ⊗ D_out``      (``n x n``, ``n = N_in·N_out``).

Routes:
    * ``'svd'``: stack the ``C_k`` and take right singular vectors (``O(n³)``; a 14 x 14 grid
      map has ``n = 38,416``, out of reach).
    * ``'schur'``: for commuting normal generators, ``D = Q Λ Qᴴ`` jointly (``spectral``), and
      ``C`` is diagonal in the basis ``Q_out e_i e_jᵀ Q_inᴴ`` with singular values
      ``σ_ij = sqrt(Σ_k |λ_k,j − μ_k,i|²)``. So ``P(W) = Q_out (M ∘ (Q_outᴴ W Q_in)) Q_inᴴ``,
      the **same** projector as the SVD route, in ``O(N³)`` without forming ``C``.
      Generators that do not commute (rotation and reflection) are split into commuting
      classes and the class projectors composed. For our groups the class projectors commute
      (the reflection anti-commutes with the rotation generator), so the composition is an
      orthogonal projector; it equals the joint SVD projector exactly for strict
      equivariance (softness 0) and for softness 1, and is a documented approximation of it
      in between (each class applies the softness rule to its own spectrum).

``rounding='frequency'`` has no secondary key here: it rounds like ``'cluster'`` (the rule the
invariant projectors refine). ``'index'`` cuts by position in each route's own order.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np

from ..groups import Generator
from .certificate import ProjectionCertificate
from .cutoff import NULL_TOLERANCE, Cutoff, select, weights
from .projector import EquivariantProjector, SpectralFactor
from .spectral import SpectralRouteError, commute, commuting_classes, joint_eigenbasis

#: Largest n = N_in·N_out for which method='auto' may fall back to the dense SVD.
MAX_DENSE_SVD_DIM = 4096


def constraint_matrix(generator_in: np.ndarray, generator_out: np.ndarray) -> np.ndarray:
    """``C = D_inᵀ ⊗ I_out − I_in ⊗ D_out`` with ``C vec(W) = vec(W D_in − D_out W)``."""
    n_in, n_out = generator_in.shape[0], generator_out.shape[0]
    return np.kron(generator_in.T, np.eye(n_out)) - np.kron(np.eye(n_in), generator_out)


@lru_cache(maxsize=32)
def _svd_spectrum(pairs: tuple[tuple[Generator, Generator], ...]) -> tuple[np.ndarray,
                                                                          np.ndarray]:
    """Singular values ``(n,)`` and right singular vectors ``(n, n)`` of the stacked ``C_k``."""
    stacked = np.concatenate([constraint_matrix(g_in.matrix, g_out.matrix)
                              for g_in, g_out in pairs], axis=0)
    # A tall stack (K >= 1 constraints of n rows) has all n right singular vectors in the
    # economy SVD; only a wide one needs full_matrices for the null directions.
    _, sigmas, right = np.linalg.svd(stacked, full_matrices=stacked.shape[0] < stacked.shape[1])
    n = right.shape[0]
    if sigmas.size < n:
        sigmas = np.concatenate([sigmas, np.zeros(n - sigmas.size)])
    sigmas.setflags(write=False)
    right.setflags(write=False)
    return sigmas, right


@lru_cache(maxsize=128)
def _joint_spectrum(pairs: tuple[tuple[Generator, Generator], ...]) -> tuple[
        np.ndarray, np.ndarray, np.ndarray]:
    """``(Q_out, Q_in, σ)`` with ``σ[i, j]² = Σ_k |λ_k,j − μ_k,i|²`` (commuting class)."""
    basis_in, eig_in = joint_eigenbasis([g_in.matrix for g_in, _ in pairs])
    if all(g_in is g_out or np.array_equal(g_in.matrix, g_out.matrix)
           for g_in, g_out in pairs):  # same action in and out (e.g. k x k → k x k)
        basis_out, eig_out = basis_in, eig_in
    else:
        basis_out, eig_out = joint_eigenbasis([g_out.matrix for _, g_out in pairs])
    differences = eig_in[:, None, :] - eig_out[:, :, None]
    sigmas = np.sqrt(np.sum(np.abs(differences) ** 2, axis=0))
    for array in (basis_out, basis_in, sigmas):
        array.setflags(write=False)  # basis_out may be basis_in: read-only either way
    return basis_out, basis_in, sigmas


def _svd_projector(group_name: str, pairs: Sequence[tuple[Generator, Generator]],
                   cutoff: Cutoff, shape: tuple[int, int]) -> EquivariantProjector:
    sigmas, right = _svd_spectrum(tuple(pairs))
    selection = select(sigmas, cutoff)
    masks = weights(sigmas, cutoff, selection)
    dense = (right.T * masks) @ right
    dense = 0.5 * (dense + dense.T)
    certificate = ProjectionCertificate.from_spectrum(group_name, sigmas, masks, selection.tau,
                                                      'svd', cutoff, [g for g, _ in pairs])
    return EquivariantProjector(shape=shape, certificate=certificate, dense=dense)


def _spectral_factor(pairs: Sequence[tuple[Generator, Generator]],
                     cutoff: Cutoff) -> tuple[SpectralFactor, np.ndarray, np.ndarray, float]:
    basis_out, basis_in, sigmas = _joint_spectrum(tuple(pairs))
    selection = select(sigmas.ravel(), cutoff)
    masks = weights(sigmas.ravel(), cutoff, selection).reshape(sigmas.shape)
    return SpectralFactor(basis_out, basis_in, masks), sigmas, masks, selection.tau


def _schur_projector(group_name: str, pairs: Sequence[tuple[Generator, Generator]],
                     cutoff: Cutoff, shape: tuple[int, int]) -> EquivariantProjector:
    classes = _pair_classes(pairs)
    factors, all_sigmas, all_masks, taus = [], [], [], []
    for members in classes:
        factor, sigmas, masks, tau = _spectral_factor([pairs[i] for i in members], cutoff)
        factors.append(factor)
        all_sigmas.append(sigmas.ravel())
        all_masks.append(masks.ravel())
        taus.append(tau)
    generators = [g for g, _ in pairs]
    if len(factors) == 1:
        certificate = ProjectionCertificate.from_spectrum(group_name, all_sigmas[0],
                                                          all_masks[0], taus[0], 'schur', cutoff,
                                                          generators)
    else:
        # Commuting factor projectors (module docstring). The bound is the largest per-class
        # bound: each class's constraint is bounded by its own factor and the other factors
        # have norm <= 1. Kept/null counts are ranks of products of indicator projectors.
        parts = [ProjectionCertificate.from_spectrum(group_name, s, m, t, 'schur', cutoff,
                                                     generators)
                 for s, m, t in zip(all_sigmas, all_masks, taus)]
        kept = _product_rank([f.basis_out for f in factors], [f.basis_in for f in factors],
                             [m.reshape(shape) >= 1.0 for m in all_masks])
        null = _product_rank([f.basis_out for f in factors], [f.basis_in for f in factors],
                             [s.reshape(shape) <= NULL_TOLERANCE * max(1.0, s.max())
                              for s in all_sigmas])
        certificate = ProjectionCertificate(
            group=group_name, kept=kept, total=parts[0].total, null_dim=null,
            cutoff_used=max(taus), bound=max(p.bound for p in parts), method='schur',
            cutoff=cutoff, labels=parts[0].labels, steps=parts[0].steps)
    return EquivariantProjector(shape=shape, certificate=certificate, factors=tuple(factors))


def _product_rank(bases_out: Sequence[np.ndarray], bases_in: Sequence[np.ndarray],
                  indicators: Sequence[np.ndarray]) -> int:
    """Rank of ``P_1 P_2`` for two commuting hard factor projectors.

    ``trace(P_1 P_2) = Σ_ij I1_ij (A I2 Bᵀ)_ij`` with ``A = |Q1_outᴴ Q2_out|²`` and
    ``B = |Q1_inᴴ Q2_in|²``; for commuting orthogonal projectors the trace is the rank.
    """
    if len(indicators) != 2:
        raise NotImplementedError('rank of a product of more than two factors')
    overlap_out = np.abs(bases_out[0].conj().T @ bases_out[1]) ** 2
    overlap_in = np.abs(bases_in[0].conj().T @ bases_in[1]) ** 2
    trace = np.sum(indicators[0] * (overlap_out @ indicators[1].astype(float) @ overlap_in.T))
    return int(round(float(trace)))


def _pair_classes(pairs: Sequence[tuple[Generator, Generator]]) -> list[list[int]]:
    in_classes = commuting_classes([g_in.matrix for g_in, _ in pairs])
    classes: list[list[int]] = []
    for members in in_classes:
        for index in members:
            for target in classes:
                if all(commute(pairs[index][1].matrix, pairs[other][1].matrix) and
                       commute(pairs[index][0].matrix, pairs[other][0].matrix)
                       for other in target):
                    target.append(index)
                    break
            else:
                classes.append([index])
    return classes


def build_equivariant_projector(group_name: str, generators_in: Sequence[Generator],
                                generators_out: Sequence[Generator], cutoff: Cutoff,
                                method: str) -> EquivariantProjector:
    """Projector for aligned generator lists realised on the input and output spaces."""
    if len(generators_in) != len(generators_out):
        raise ValueError('generators_in and generators_out must be aligned (same group)')
    pairs = list(zip(generators_in, generators_out))
    shape = (generators_out[0].dim, generators_in[0].dim)
    n = shape[0] * shape[1]
    if cutoff.rounding == 'index' and method != 'svd':
        # The index rule cuts between the members of a complex-conjugate pair of Schur
        # directions; the real part of such a cut weighs both by 1/2 (not a projector). It
        # is the paper's rule, defined on the SVD, so it takes the SVD route.
        if n > MAX_DENSE_SVD_DIM:
            raise ValueError(f"rounding='index' on maps of dimension {n} > "
                             f'{MAX_DENSE_SVD_DIM} would need a dense SVD; use '
                             "rounding='frequency' (group-exact) for maps this large")
        return _svd_projector(group_name, pairs, cutoff, shape)
    if method == 'svd':
        return _svd_projector(group_name, pairs, cutoff, shape)
    if method == 'schur':
        return _schur_projector(group_name, pairs, cutoff, shape)
    if method == 'auto':
        try:
            return _schur_projector(group_name, pairs, cutoff, shape)
        except SpectralRouteError:
            if n <= MAX_DENSE_SVD_DIM:
                return _svd_projector(group_name, pairs, cutoff, shape)
            raise
    raise ValueError(f"method must be 'svd', 'schur' or 'auto', got {method!r}")
