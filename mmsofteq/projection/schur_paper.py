"""The authors' Schur route (``method='schur_paper'``): the projector their runs used.

Every paper run except VOC DINOv2 built its projectors from the real Schur form of the one
(non-normal) bilinear generator ``D`` (the authors' ``decomposition_method: "schur"``,
``config/segmentation.yaml`` / ``config/vit_classif.yaml``, solved by ``scipy.linalg.schur``):

    ``D = Z T Zᵀ``, ``Z`` orthogonal, ``T`` quasi upper triangular (1×1 and 2×2 blocks),

solved as they solve it: ``D`` rounded to float32 (their rotation matrix is sampled in float32,
``generator='bilinear'`` here rebuilds it so, :func:`authors_bilinear_generator`) and a float32
Schur form. The subset of Schur vectors kept is not an invariant subspace, so LAPACK's ordering
of the eigenvalues decides it and 1e-6 rounding of ``D`` moves the projector by up to 0.19
(max ``|ΔP|``); from the float32 ``D`` it is the authors' projector to 4e-7.

Directions = the Schur vectors (columns of ``Z``), the same for kernels and data-side grids,
ordered by the surrogate ``|T_ii|`` of their diagonal block (``√(a² + c²)`` for a 2×2 block
``[[a, b], [c, a]]`` put in the form ``b ≥ 0 ≥ c``, both columns), kept by the index rule of
the cutoff, ``P = Z diag(m) Zᵀ``.

It differs from ``method='svd'`` / ``'schur'`` (mmsofteq's, both the singular subspaces of
``D``): same keep counts, but another subspace for a non-normal ``D`` (their overlap at the
paper's settings is 0.93-0.98). ``|T_ii|`` is not a singular value, so the certificate's
``bound`` is computed from the projector itself, ``β = ‖P A‖₂`` (kernels: ``‖θ P D‖ ≤ β‖θ‖``;
data side: ``‖D P θ‖ ≤ β‖θ‖``), not read off the ordering keys.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np
from scipy.linalg import schur

from ..groups import Generator, bilinear_rotation_operator
from .certificate import ProjectionCertificate
from .cutoff import Cutoff, select, weights
from .projector import InvariantProjector


#: A subdiagonal entry below this closes no 2×2 block (the authors' tolerance).
BLOCK_TOLERANCE = 1e-5


def authors_bilinear_generator(generator: Generator) -> np.ndarray:
    """``(N, N)`` float32: the bilinear generator ``(R − I)/step`` rounded as the authors' runs
    had it (``R`` sampled in float32, the difference and division in float32); ``generator``
    is mmsofteq's float64 one of a ``C<n>`` group on a ``k × k`` grid (``N = k²``)."""
    import torch

    k = math.isqrt(generator.dim)
    rotation = torch.tensor(bilinear_rotation_operator(k, generator.step, single=True))
    return ((rotation - torch.eye(k * k)) / generator.step).numpy()


def schur_directions(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(keys (N,), Z (N, N))``: the real Schur vectors of ``matrix`` and their ``|T_ii|``
    surrogates, ascending.

    The Schur form is solved in ``matrix``'s precision (float32 for the authors' ``D``) and
    continued in float64; float32 Schur vectors are re-orthonormalised (``Z = QR``, ``Q`` with
    ``diag(R) > 0``, within ~1e-7 of ``Z``) so that ``P`` is a projector to float64 precision.

    As the authors' route: each 2×2 block is put in the form with a non-negative upper
    off-diagonal entry (its two Schur vectors swapped otherwise), a subdiagonal entry below
    :data:`BLOCK_TOLERANCE` counts as a 1×1 block, and the keys are sorted by
    ``numpy.argsort`` (which decides the order inside a tied pair when a cut splits it).
    """
    matrix = np.asarray(matrix)
    if matrix.dtype != np.float32:
        matrix = matrix.astype(np.float64)
    quasi_triangular, vectors = (part.astype(np.float64) for part in schur(matrix, output='real'))
    if matrix.dtype == np.float32:
        orthonormal, triangular = np.linalg.qr(vectors)
        vectors = orthonormal * np.sign(np.diag(triangular))
    size = quasi_triangular.shape[0]
    index = 0
    while index < size - 1:  # the 2×2 blocks' canonical form: T[i, i+1] >= 0
        if abs(quasi_triangular[index + 1, index]) > 1e-8:
            if quasi_triangular[index, index + 1] < 0:
                block = slice(index, index + 2)
                quasi_triangular[block, block] = quasi_triangular[block, block][::-1, ::-1].copy()
                vectors[:, block] = vectors[:, block][:, ::-1].copy()
            index += 2
        else:
            index += 1
    keys = np.empty(size)
    index = 0
    while index < size:
        if index + 1 < size and abs(quasi_triangular[index + 1, index]) > BLOCK_TOLERANCE:
            keys[index] = keys[index + 1] = np.hypot(quasi_triangular[index, index],
                                                     quasi_triangular[index + 1, index])
            index += 2
        else:
            keys[index] = abs(quasi_triangular[index, index])
            index += 1
    order = np.argsort(keys)
    return keys[order], vectors[:, order]


def build_schur_paper_projector(group_name: str, generators: Sequence[Generator],
                                cutoff: Cutoff, side: str, stack: np.ndarray,
                                generator: str) -> InvariantProjector:
    """The projector of the module docstring for a one-generator group (``C<n>``).

    Args:
        stack: ``A`` of the side (``D`` for kernels, ``Dᵀ`` for data-side fields), for the
            certificate's bound (mmsofteq's float64 ``D``: the bound is honest for it).
        generator: ``'bilinear'`` solves the authors' float32 ``D``
            (:func:`authors_bilinear_generator`); other discretisations their own matrix.
    """
    if len(generators) != 1:
        raise ValueError(
            f"method='schur_paper' is the authors' route for one generator (C<n>); "
            f'{group_name} has {len(generators)}. Use method=\'svd\' or \'schur\'.')
    matrix = (authors_bilinear_generator(generators[0]) if generator == 'bilinear'
              else generators[0].matrix)
    keys, vectors = schur_directions(matrix)
    selection = select(keys, cutoff)
    masks = weights(keys, cutoff, selection)
    matrix = (vectors * masks) @ vectors.T
    matrix = 0.5 * (matrix + matrix.T)
    certificate = ProjectionCertificate.from_spectrum(group_name, keys, masks, selection.tau,
                                                      'schur_paper', cutoff, generators,
                                                      generator)
    bound = float(np.linalg.norm(matrix @ stack, 2)) if masks.any() else 0.0
    return InvariantProjector(matrix, dataclasses.replace(certificate, bound=bound))
