"""Projector objects: an invariant one (dense ``N x N``) and an equivariant one (factored).

Both are immutable, hold float64 numpy data, and convert to torch on request.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import torch

from .certificate import ProjectionCertificate


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class InvariantProjector:
    """``P`` (``N x N``, symmetric) on the input space of an invariant layer.

    A weight ``θ`` of shape ``(..., N)`` (rows, or flattened ``k x k`` kernel slices, or a
    grid channel) becomes ``θ_eff = θ Pᵀ = θ P``. For a position-embedding grid stored as
    ``(N, C)`` use ``P θ``.

    Attributes:
        matrix: ``(N, N)`` float64 read-only.
        certificate: kept directions, cutoff used, bound (see ``ProjectionCertificate``).
    """

    matrix: np.ndarray
    certificate: ProjectionCertificate
    _tensors: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, 'matrix', _readonly(np.asarray(self.matrix, np.float64)))

    @property
    def dim(self) -> int:
        return self.matrix.shape[0]

    @property
    def is_identity(self) -> bool:
        return self.certificate.is_identity

    def as_tensor(self, dtype: torch.dtype = torch.float32,
                  device: Optional[torch.device | str] = None) -> torch.Tensor:
        """``P`` as a torch tensor in ``dtype`` on ``device`` (memoised per dtype/device)."""
        key = (dtype, str(torch.device(device)) if device is not None else 'cpu')
        if key not in self._tensors:
            self._tensors[key] = torch.from_numpy(np.array(self.matrix)).to(dtype=dtype,
                                                                             device=device)
        return self._tensors[key]

    def apply(self, weight: torch.Tensor) -> torch.Tensor:
        """``weight[..., N] ↦ weight @ P`` in ``weight``'s dtype and device."""
        if weight.shape[-1] != self.dim:
            raise ValueError(f'weight must have last dimension N={self.dim}, got shape '
                             f'{tuple(weight.shape)}')
        return weight @ self.as_tensor(weight.dtype, weight.device)


@dataclass(frozen=True, eq=False)
class SpectralFactor:
    """One factor ``X ↦ Q_out (M ∘ (Q_outᴴ X Q_in)) Q_inᴴ`` of an equivariant projector.

    Attributes:
        basis_out: ``(N_out, N_out)`` unitary (complex128 or float64).
        basis_in: ``(N_in, N_in)`` unitary.
        weights: ``(N_out, N_in)`` float64 mask ``M_ij = m(σ_ij)``.
    """

    basis_out: np.ndarray
    basis_in: np.ndarray
    weights: np.ndarray

    def apply(self, matrix: np.ndarray) -> np.ndarray:
        coefficients = self.basis_out.conj().T @ matrix @ self.basis_in
        result = self.basis_out @ (self.weights * coefficients) @ self.basis_in.conj().T
        return np.real(result) if np.iscomplexobj(result) else result


@dataclass(frozen=True, eq=False)
class EquivariantProjector:
    """Projector on maps ``W: R^{N_in} → R^{N_out}`` (``W`` of shape ``(N_out, N_in)``).

    Stored either factored (``factors``: applied in sequence, never forming the
    ``(N_in·N_out)²`` matrix) or dense (``dense``: acting on column-major ``vec(W)``).
    """

    shape: tuple[int, int]
    certificate: ProjectionCertificate
    factors: Sequence[SpectralFactor] = ()
    dense: Optional[np.ndarray] = None

    @property
    def is_identity(self) -> bool:
        return self.certificate.is_identity

    def apply(self, weight: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """``W ↦ P(W)``; float64 math, returned in the input's type, dtype and device."""
        as_torch = isinstance(weight, torch.Tensor)
        array = weight.detach().cpu().double().numpy() if as_torch else np.asarray(weight, float)
        if array.shape != tuple(self.shape):
            raise ValueError(f'weight must have shape (N_out, N_in)={tuple(self.shape)}, got '
                             f'{tuple(array.shape)}')
        if self.dense is not None:
            flat = array.reshape(-1, order='F')
            result = (self.dense @ flat).reshape(self.shape, order='F')
        else:
            result = array
            for factor in self.factors:
                result = factor.apply(result)
        if as_torch:
            return torch.from_numpy(np.ascontiguousarray(result)).to(weight.dtype).to(weight.device)
        return result

    def to_dense(self, max_dim: int = 20000) -> np.ndarray:
        """``(n, n)`` matrix on column-major ``vec(W)`` (``n = N_in·N_out``; small n only).

        ``max_dim`` guards memory (``n²`` float64 entries: 3.2 GB at the default); a caller
        that has the memory raises it rather than forming the matrix by hand.
        """
        n = self.shape[0] * self.shape[1]
        if self.dense is not None:
            return self.dense
        if n > max_dim:
            raise ValueError(f'to_dense would form a {n} x {n} matrix (> max_dim={max_dim})')
        columns = [self.apply(np.eye(n)[:, j].reshape(self.shape, order='F')).reshape(-1, order='F')
                   for j in range(n)]
        return np.stack(columns, axis=1)
