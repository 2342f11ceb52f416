"""Joint unitary eigenbasis of commuting normal matrices (the Schur form of a normal matrix).

A real normal matrix ``D`` has a complex Schur form ``D = Q T Qᴴ`` with ``T`` **diagonal**.
Commuting normal matrices ``D_1 ... D_K`` share such a ``Q``. We obtain it from one Hermitian
eigensolve: ``H = Σ_k a_k (D_k + D_kᵀ)/2 + b_k (D_k − D_kᵀ)/(2i)`` (all terms commute and are
Hermitian) with fixed incommensurate weights ``a_k, b_k``; distinct joint eigenvalue tuples
give distinct eigenvalues of ``H``, so ``Q`` diagonalises every ``D_k``. The result is checked
(``‖D_k Q − Q Λ_k‖``) and the eigenvalues read off as ``Λ_k = diag(Qᴴ D_k Q)``.
Cost ``O(N³)`` for ``N x N`` generators.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.linalg import eigh

# Powers of the plastic number: incommensurate, so accidental ties are unlikely.
_MIXING_WEIGHTS = (1.0, 0.7548776662466927, 0.5698402909980532, 0.4301597090019468,
                   0.3247179572447460, 0.2451223337533073, 0.1850384693817548, 0.1396838643570462)
_RESIDUAL_TOLERANCE = 1e-8


class SpectralRouteError(ValueError):
    """The Schur/eigen route does not apply (non-normal or non-commuting generators)."""


def is_normal(matrix: np.ndarray, tolerance: float = 1e-10) -> bool:
    """``‖D Dᵀ − Dᵀ D‖_max ≤ tolerance · max(1, ‖D‖²_max)``."""
    scale = max(1.0, float(np.abs(matrix).max()) ** 2) * matrix.shape[0]
    return float(np.abs(matrix @ matrix.T - matrix.T @ matrix).max()) <= tolerance * scale


def commute(first: np.ndarray, second: np.ndarray, tolerance: float = 1e-10) -> bool:
    scale = max(1.0, float(np.abs(first).max()) * float(np.abs(second).max())) * first.shape[0]
    return float(np.abs(first @ second - second @ first).max()) <= tolerance * scale


def joint_eigenbasis(matrices: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Unitary ``Q`` and eigenvalues ``Λ`` with ``D_k = Q diag(Λ[k]) Qᴴ`` for every k.

    Args:
        matrices: ``K`` real ``(N, N)`` matrices, each normal, pairwise commuting.

    Returns:
        ``Q``: ``(N, N)`` complex128 unitary; ``Λ``: ``(K, N)`` complex128 eigenvalues.

    Raises:
        SpectralRouteError: a matrix is not normal, two do not commute, or the check fails.
    """
    matrices = [np.asarray(m, dtype=np.float64) for m in matrices]
    size = matrices[0].shape[0]
    for index, matrix in enumerate(matrices):
        if not is_normal(matrix):
            raise SpectralRouteError(f'generator {index} is not normal; the Schur route needs '
                                     "normal generators (use method='svd')")
    for i in range(len(matrices)):
        for j in range(i + 1, len(matrices)):
            if not commute(matrices[i], matrices[j]):
                raise SpectralRouteError(f'generators {i} and {j} do not commute; they have no '
                                         'joint eigenbasis')
    if all(not np.any(matrix) for matrix in matrices):
        return np.eye(size, dtype=np.complex128), np.zeros((len(matrices), size), np.complex128)
    for attempt in range(3):
        hermitian = np.zeros((size, size), dtype=np.complex128)
        for index, matrix in enumerate(matrices):
            a = _MIXING_WEIGHTS[(2 * index + attempt) % len(_MIXING_WEIGHTS)]
            b = _MIXING_WEIGHTS[(2 * index + 1 + 2 * attempt) % len(_MIXING_WEIGHTS)]
            hermitian += a * 0.5 * (matrix + matrix.T) - 0.5j * b * (matrix - matrix.T)
        if not np.any(hermitian.imag):
            _, basis = eigh(hermitian.real, driver='evd')
            basis = basis.astype(np.complex128)
        else:
            _, basis = eigh(hermitian, driver='evd')
        # Λ_k = diag(Qᴴ D_k Q) from the products D_k Q, which the residual check reuses.
        products = [matrix @ basis for matrix in matrices]
        eigenvalues = np.stack([np.sum(basis.conj() * product, axis=0) for product in products])
        residual = max(float(np.abs(product - basis * values).max()) /
                       max(1.0, float(np.abs(matrix).max()))
                       for matrix, product, values in zip(matrices, products, eigenvalues))
        if residual <= _RESIDUAL_TOLERANCE * size:
            return basis, eigenvalues
    raise SpectralRouteError(f'joint eigenbasis check failed (residual {residual:.2e}); '
                             "use method='svd'")


def commuting_classes(matrices: Sequence[np.ndarray]) -> list[list[int]]:
    """Greedy partition of generator indices into classes of pairwise-commuting matrices."""
    classes: list[list[int]] = []
    for index, matrix in enumerate(matrices):
        for members in classes:
            if all(commute(matrix, matrices[other]) for other in members):
                members.append(index)
                break
        else:
            classes.append([index])
    return classes
