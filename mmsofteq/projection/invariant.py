"""Invariant projectors: the weight of a layer that should not see the group action.

A kernel row ``w ∈ R^N`` applied to a patch ``x`` is invariant when ``w D_k = 0`` for every
generator ``D_k`` (``w ρ(g) = w``): ``w`` lies in the left null space of the stack
``A = [D_1, ..., D_K]`` (``N x KN``). A data-side field ``p`` (a position-embedding grid) is
invariant when ``D_k p = 0``: the right null space, i.e. the left null space of
``[D_1ᵀ, ..., D_Kᵀ]`` (``side='data'``). For normal generators (mmsofteq's spectral ones) the two
coincide; for the paper's bilinear ``D`` they differ. With the singular values ``σ_i`` and
vectors ``u_i`` of the chosen stack, ``P = Σ_i m_i u_i u_iᵀ`` (``m_i`` from the cutoff).

Routes (identical projectors):
    * ``'svd'``: ``numpy.linalg.svd(A)``.
    * ``'schur'``: the symmetric eigendecomposition of ``A Aᵀ = Σ_k D_k D_kᵀ`` (``σ_i²``);
      exact for any generators, cheaper than the SVD of the wide ``A``. On grids it is split
      into the isotypic blocks ``B_b`` (``N x d_b``) of the exact quarter turn (half turn when
      a generator does not commute with the quarter turn):
      ``A Aᵀ = Σ_b B_b (X_b X_bᵀ) B_bᵀ`` with ``X_b = B_bᵀ A`` (``d_b x KN``), so only the
      blocks ``X_b X_bᵀ = V_b diag(σ_b²) V_bᵀ`` are formed and diagonalised, and

          ``P = Σ_b B_b (V_b diag(m_b) V_bᵀ) B_bᵀ``.

      Each grid point has at most one non-zero entry per block (``B_b[p, c_p] = a_p``), so
      ``X_b`` is a sparse row combination of ``A`` and ``B_b Y B_bᵀ`` is the gather
      ``a_p a_q Y[c_p, c_q]``: about ``0.4·K N³ + 0.16 N³`` flops instead of
      ``(K + 2) N³``, plus the eigensolves (``≈ 0.16 N³`` of a full one).
      When the projector is the identity (softness 1) only the eigenvalues are computed.

**Secondary key** (``rounding='frequency'``, ``cutoff.py``): inside each cluster of equal
``σ`` the basis is rotated to diagonalise ``S = Lᵀ L`` (``groups.frequency_operator``), and
``ω_i = sqrt(u_iᵀ S u_i)``. ``S`` commutes with ``A Aᵀ`` and with the group for mmsofteq's
generators, so the kept set (a union of joint eigenspaces) is unique and group-commuting;
for the bilinear generators the rotation is still within each cluster, so ``σ`` and the
certificate are unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Sequence

import numpy as np
from scipy.linalg import eigh
from scipy.sparse import csr_matrix

from ..groups import Generator, symmetry_adapted_blocks
from .certificate import ProjectionCertificate
from .cutoff import (FREQUENCY_TOLERANCE, TIE_TOLERANCE, Cutoff, cluster_labels, select,
                     weights)
from .projector import InvariantProjector

SIDES = ('kernel', 'data')


@dataclass(frozen=True, eq=False)
class BlockSpectrum:
    """Spectrum of ``A Aᵀ`` restricted to one isotypic block ``B`` (``N x d``).

    ``B[rows[i], columns[i]] = coefficients[i]`` are its only non-zero entries (at most one per
    grid point). ``sigmas`` ``(d,)`` and ``vectors`` ``(d, d)`` (or ``None`` when only the
    singular values were asked for): ``Bᵀ A Aᵀ B = vectors diag(sigmas²) vectorsᵀ``;
    ``frequencies`` ``(d, m)``: the secondary keys of each vector, one column per secondary
    operator (``None`` without any).
    """

    rows: np.ndarray
    columns: np.ndarray
    coefficients: np.ndarray
    dim: int
    sigmas: np.ndarray
    vectors: Optional[np.ndarray]
    frequencies: Optional[np.ndarray] = None

    def embed(self, matrix: np.ndarray, size: int) -> np.ndarray:
        """``B Y Bᵀ`` (``size x size``) for ``Y`` (``d x d``) by a gather (no matmul)."""
        result = np.zeros((size, size))
        scale = np.outer(self.coefficients, self.coefficients)
        result[np.ix_(self.rows, self.rows)] = scale * matrix[np.ix_(self.columns, self.columns)]
        return result

    def compress(self, operator: np.ndarray) -> np.ndarray:
        """``Bᵀ S B`` (``d x d``) of an ``N x N`` operator (``B`` applied as a sparse matrix:
        a column of ``B`` holds several grid points)."""
        block = csr_matrix((self.coefficients, (self.rows, self.columns)),
                           shape=(operator.shape[0], self.dim))
        return np.asarray(block.T @ (block.T @ operator).T)


def _selection(block: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, columns, coefficients)`` of a block with at most one non-zero per row."""
    rows, columns = np.nonzero(block)
    if np.unique(rows).size != rows.size:
        raise ValueError('symmetry-adapted block has more than one entry in a row')
    return rows, columns, block[rows, columns]


def _stack(generators: Sequence[Generator], side: str) -> np.ndarray:
    """``A = [D_1, ..., D_K]`` (kernel side) or ``[D_1ᵀ, ..., D_Kᵀ]`` (data side)."""
    if side not in SIDES:
        raise ValueError(f'side must be one of {SIDES}, got {side!r}')
    return np.concatenate([g.matrix if side == 'kernel' else g.matrix.T for g in generators],
                          axis=1)


def refine_by_frequency(sigmas: np.ndarray, vectors: np.ndarray,
                        secondaries: Sequence[np.ndarray],
                        scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotate ``vectors`` (columns) inside each cluster of equal ``sigmas`` so that they
    diagonalise ``vectorsᵀ S_1 vectors``, then inside each joint cluster of ``(σ, key_1)``
    ``S_2``, and so on; return ``(vectors, keys)``, ``keys[:, j] = sqrt`` of the diagonal of
    ``vectorsᵀ S_j vectors`` (``(n, m)``). ``scale`` sets the σ tie tolerance
    (``TIE_TOLERANCE · scale``); keys tie within ``FREQUENCY_TOLERANCE · max(1, key_max)``.
    Every ``S_j`` must commute with the earlier ones inside those clusters."""
    vectors = np.array(vectors)
    labels = cluster_labels(sigmas, TIE_TOLERANCE * scale)
    keys = []
    for secondary in secondaries:
        compressed = vectors.T @ secondary @ vectors
        for label in np.unique(labels):
            members = np.flatnonzero(labels == label)
            if members.size > 1:
                _, rotation = eigh(compressed[np.ix_(members, members)], driver='evd')
                vectors[:, members] = vectors[:, members] @ rotation
        key = np.sqrt(np.clip(np.einsum('ij,ij->j', vectors, secondary @ vectors), 0.0, None))
        keys.append(key)
        tolerance = FREQUENCY_TOLERANCE * max(1.0, float(key.max()) if key.size else 1.0)
        refined = np.empty_like(labels)
        for label in np.unique(labels):
            members = labels == label
            refined[members] = cluster_labels(key[members], tolerance)
        labels = np.unique(np.stack([labels, refined], 1), axis=0, return_inverse=True)[1]
        labels = labels.ravel()
    return vectors, np.stack(keys, axis=1) if keys else np.zeros((vectors.shape[1], 0))


@lru_cache(maxsize=128)
def block_spectra(generators: Sequence[Generator], grid_symmetry: Optional[tuple[int, bool]],
                  vectors: bool = True, side: str = 'kernel',
                  secondary: tuple = ()) -> tuple[BlockSpectrum, ...]:
    """Per-block eigendecomposition of ``A Aᵀ`` (the ``'schur'`` route; module docstring).

    Args:
        generators: the group's generators on one space (``N x N`` each).
        grid_symmetry: ``(k, quarter_turns)`` on a ``k x k`` grid (``groups.
            symmetry_adapted_blocks``), or ``None`` (one block, the identity).
        vectors: also compute the eigenvectors (``False``: eigenvalues only).
        side: ``'kernel'`` or ``'data'`` (module docstring).
        secondary: the operators ``S_j`` (each wrapped in :class:`_Frozen`) of the secondary
            keys (``refine_by_frequency``).
    """
    size = generators[0].dim
    stacked = _stack(generators, side)                                      # A: (N, K N)
    if grid_symmetry is None:
        index = np.arange(size)
        selections = [(index, index, np.ones(size), size)]
    else:
        selections = [(*_selection(block), block.shape[1])
                      for block in symmetry_adapted_blocks(*grid_symmetry)]
    spectra = []
    for rows, columns, coefficients, dim in selections:
        restriction = csr_matrix((coefficients, (columns, rows)), shape=(dim, size)) @ stacked
        gram = restriction @ restriction.T                                  # Bᵀ A Aᵀ B
        if vectors:
            squared, basis = eigh(gram, driver='evd')
        else:
            squared, basis = eigh(gram, eigvals_only=True, driver='evd'), None
        spectra.append(BlockSpectrum(rows, columns, coefficients, dim,
                                     np.sqrt(np.clip(squared, 0.0, None)), basis))
    if vectors and secondary:
        scale = max(1.0, max(float(s.sigmas.max()) for s in spectra if s.dim))
        refined = []
        for spectrum in spectra:
            basis, omega = refine_by_frequency(
                spectrum.sigmas, spectrum.vectors,
                [spectrum.compress(operator.array) for operator in secondary], scale)
            refined.append(BlockSpectrum(spectrum.rows, spectrum.columns,
                                         spectrum.coefficients, spectrum.dim, spectrum.sigmas,
                                         basis, omega))
        spectra = refined
    for spectrum in spectra:
        for array in (spectrum.sigmas, spectrum.vectors, spectrum.frequencies):
            if array is not None:
                array.setflags(write=False)
    return tuple(spectra)


@dataclass(frozen=True, eq=False)
class _Frozen:
    """A read-only array hashed by identity (cache keys of the cached decompositions)."""
    array: np.ndarray


_FROZEN: dict = {}


def _frozen(arrays: Sequence[Optional[np.ndarray]]) -> tuple[_Frozen, ...]:
    """The non-``None`` arrays as identity-hashed cache keys."""
    frozen = []
    for array in arrays:
        if array is None:
            continue
        key = id(array)
        if key not in _FROZEN or _FROZEN[key].array is not array:
            _FROZEN[key] = _Frozen(array)
        frozen.append(_FROZEN[key])
    return tuple(frozen)


@lru_cache(maxsize=128)
def invariant_spectrum(generators: Sequence[Generator], method: str,
                       grid_symmetry: Optional[tuple[int, bool]] = None, side: str = 'kernel',
                       secondary: tuple = ()
                       ) -> tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """Singular values ``σ`` ``(N,)``, left singular vectors ``U`` ``(N, N)`` of the stack and
    their secondary keys ``(N, m)`` (``None`` without ``secondary``).

    Args:
        generators: the group's generators on one space.
        method: ``'svd'`` or ``'schur'``.
        grid_symmetry: for ``'schur'`` on a grid, ``(k, quarter_turns)``: every ``D_k D_kᵀ``
            commutes with the exact quarter turn (``True``) or half turn (``False``), so the
            eigensolve runs per isotypic block (``groups.symmetry_adapted_blocks``).
        side: ``'kernel'`` or ``'data'``.
        secondary: the operators of the secondary keys (``refine_by_frequency``).

    Cached per (generators, route, symmetry, side, S): a sweep over softness decomposes once.
    """
    if method == 'svd':
        stacked = _stack(generators, side)
        basis, sigmas, _ = np.linalg.svd(stacked, full_matrices=True)
        if sigmas.size < basis.shape[0]:
            sigmas = np.concatenate([sigmas, np.zeros(basis.shape[0] - sigmas.size)])
        omega = None
        if secondary:
            basis, omega = refine_by_frequency(sigmas, basis,
                                               [operator.array for operator in secondary],
                                               max(1.0, float(sigmas.max())))
            omega.setflags(write=False)
        return _readonly(sigmas), _readonly(basis), omega
    if method == 'schur':
        size = generators[0].dim
        spectra = block_spectra(tuple(generators), grid_symmetry, True, side, secondary)
        basis = np.zeros((size, size))
        offset = 0
        for spectrum in spectra:                                            # U = [B_b V_b]
            basis[spectrum.rows, offset:offset + spectrum.dim] = (
                spectrum.coefficients[:, None] * spectrum.vectors[spectrum.columns])
            offset += spectrum.dim
        sigmas = np.concatenate([spectrum.sigmas for spectrum in spectra])
        omega = (np.concatenate([spectrum.frequencies for spectrum in spectra])
                 if secondary else None)
        return _readonly(sigmas), _readonly(basis), omega
    raise ValueError(f"method must be 'svd', 'schur' or 'auto', got {method!r}")


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _schur_matrix(spectra: Sequence[BlockSpectrum], cutoff: Cutoff, size: int,
                  primary_keys: int):
    """``P = Σ_b B_b (V_b diag(m_b) V_bᵀ) B_bᵀ``, and the spectrum, keys, weights and
    selection."""
    sigmas = np.concatenate([spectrum.sigmas for spectrum in spectra])
    keys = (np.concatenate([spectrum.frequencies for spectrum in spectra])
            if spectra[0].frequencies is not None else None)
    selection = select(sigmas, cutoff, keys, primary_keys)
    masks = weights(sigmas, cutoff, selection)
    matrix = np.zeros((size, size))
    offset = 0
    for spectrum in spectra:
        block_masks = masks[offset:offset + spectrum.dim]
        matrix += spectrum.embed((spectrum.vectors * block_masks) @ spectrum.vectors.T, size)
        offset += spectrum.dim
    return matrix, sigmas, keys, masks, selection


def build_invariant_projector(group_name: str, generators: Sequence[Generator], cutoff: Cutoff,
                              method: str,
                              grid_symmetry: Optional[tuple[int, bool]] = None,
                              side: str = 'kernel',
                              secondary: Optional[np.ndarray] = None,
                              generator: str = 'spectral',
                              exact: Optional[np.ndarray] = None) -> InvariantProjector:
    """Projector for generators realised on one space (see module docstring).

    Args:
        group_name: for the certificate.
        generators: a hashable tuple of ``Generator`` (the spectrum cache key).
        cutoff: the rule (softness/tau, kind, rounding).
        method: ``'auto'`` (= ``'schur'``), ``'svd'`` or ``'schur'``.
        grid_symmetry: see :func:`invariant_spectrum`.
        side: ``'kernel'`` (left singular vectors) or ``'data'`` (right singular vectors).
        secondary: ``S`` of the frequency refinement (used with ``rounding='frequency'``).
        generator: the discretisation's name, for the certificate.
        exact: ``generator='resampled'``: the exact-element form
            (``groups.exact_asymmetry_form``), a primary key after ``σ``: it orders what
            ``σ`` ties, joins the null count and gives the certificate's ``exact_bound``.
    """
    generators = tuple(generators)
    size = generators[0].dim
    route = 'schur' if method == 'auto' else method
    operators = _frozen([exact, secondary if cutoff.rounding == 'frequency' else None])
    primary_keys = int(exact is not None)
    if cutoff.keeps_everything:
        # Identity, but the certificate still reports the spectrum's bound (σ_max) and the
        # same null count as the other softness values (with the exact key, if any).
        exact_keys = None
        if exact is not None:
            sigmas, _, keys = invariant_spectrum(generators, route, grid_symmetry, side,
                                                 _frozen([exact]))
            exact_keys = keys[:, 0]
        elif route == 'schur':
            sigmas = np.concatenate([spectrum.sigmas for spectrum in block_spectra(
                generators, grid_symmetry, False, side)])
        else:  # 'svd'; the authors' Schur route keeps everything the same way
            sigmas = invariant_spectrum(generators, 'svd' if route == 'schur_paper' else route,
                                        None, side)[0]
        selection = select(sigmas, cutoff)
        certificate = ProjectionCertificate.from_spectrum(
            group_name, sigmas, np.ones_like(sigmas), selection.tau, method, cutoff,
            generators, generator, exact_keys)
        return InvariantProjector(np.eye(size), certificate)
    if route == 'schur_paper':
        from .schur_paper import build_schur_paper_projector
        return build_schur_paper_projector(group_name, generators, cutoff, side,
                                           _stack(generators, side), generator)
    if route == 'schur':
        matrix, sigmas, keys, masks, selection = _schur_matrix(
            block_spectra(generators, grid_symmetry, True, side, operators), cutoff, size,
            primary_keys)
    else:
        sigmas, basis, keys = invariant_spectrum(generators, route, None, side, operators)
        selection = select(sigmas, cutoff, keys, primary_keys)
        masks = weights(sigmas, cutoff, selection)
        matrix = (basis * masks) @ basis.T
    matrix = 0.5 * (matrix + matrix.T)
    exact_keys = keys[:, 0] if primary_keys else None
    certificate = ProjectionCertificate.from_spectrum(group_name, sigmas, masks, selection.tau,
                                                      route, cutoff, generators, generator,
                                                      exact_keys)
    return InvariantProjector(matrix, certificate)
