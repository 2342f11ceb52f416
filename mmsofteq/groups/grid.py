"""Rotation and reflection operators on a square ``k x k`` grid of scalars.

A scalar field on the grid (one conv-kernel slice, one channel of a position-embedding grid,
a flattened image) is a vector ``f ∈ R^N`` with ``N = k²``, flattened row-major:
``f[r * k + c]`` is row ``r`` (top to bottom) and column ``c`` (left to right).
Coordinates are centred: ``x = c − (k−1)/2``, ``y = (k−1)/2 − r`` (y points up).

Discretisation (documented in ``docs/math.md``):

* **Quarter turns are exact.** ``quarter_turn_operator(k)`` is the permutation matrix of
  ``numpy.rot90`` (counter-clockwise); so C4 acts by an exact permutation.
* **Continuous rotation** uses the spectral generator ``L = y·∂_x − x·∂_y`` with the periodic
  Fourier differentiation matrix along each axis. ``L`` is real skew-symmetric, hence
  **normal**, and commutes exactly with the quarter turn and anti-commutes with the flip
  (``F L F = −L``). Its eigenvalues are ``±i·ω`` with ``ω`` approximating the angular
  frequency of the mode. ``(expm(t·L) f)(p) ≈ f(R_{−t} p)``: the field rotated counter-clockwise
  by ``t`` radians (checked on smooth fields in the tests). Rotations by other angles are
  ``expm(t·L)`` (orthogonal); on small grids these are coarse, which is why quarter turns use
  the exact permutation.
* **Reflection** ``x → −x`` is the exact left-right permutation.
* **The paper's bilinear rotation** (``bilinear_rotation_operator``, the authors' construction): column
  ``p`` is the basis image ``e_p``, circularly padded by ``k // 2`` on every side, resampled
  under a rotation by the angle (bilinear ``grid_sample``, ``align_corners=False``, zeros
  outside the padded image) and cropped back to ``k x k``. Exact for quarter turns (a
  permutation), not orthogonal and not normal otherwise.
* **The evaluation's resampling** (``resampled_rotation_operator``): the rotation the rotated
  evaluation applies to images (``mmsofteq.utils.rotate_field``: bilinear ``grid_sample`` at
  pixel centres, ``align_corners=False``, zeros outside), written as a matrix, with the mask of
  the output pixels whose sample point lies inside the hull of pixel centres (no fill value
  enters there). Quarter turns return the exact permutation. It defines the rotational
  asymmetry that ``generator='resampled'`` orders directions by (``groups.asymmetry``).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.linalg import expm


def square_grid_size(grid_shape: int | tuple[int, int]) -> int:
    """Return ``k`` for a square ``(k, k)`` grid; raise ``ValueError`` otherwise."""
    if isinstance(grid_shape, (int, np.integer)):
        height = width = int(grid_shape)
    else:
        shape = tuple(int(s) for s in grid_shape)
        if len(shape) != 2:
            raise ValueError(f'grid_shape must be an int or (height, width), got {grid_shape!r}')
        height, width = shape
    if height != width:
        raise ValueError(f'grid_shape must be square (rotations map a k x k grid onto itself), '
                         f'got (height, width) = ({height}, {width})')
    if height < 1:
        raise ValueError(f'grid_shape must be positive, got {height}')
    return height


def fourier_derivative_matrix(k: int) -> np.ndarray:
    """``(k, k)`` periodic spectral differentiation matrix for unit spacing (skew-symmetric).

    ``D[i, j] = (2π/k)·(−1)^(i−j) / (2 sin(π(i−j)/k))`` (k odd) or with ``tan`` (k even),
    ``D[i, i] = 0`` (Trefethen, *Spectral Methods in MATLAB*, ch. 3, rescaled to unit spacing). The even case drops the Nyquist mode (standard choice), keeping skewness.
    """
    index = np.arange(k)
    offset = index[:, None] - index[None, :]
    derivative = np.zeros((k, k))
    off_diagonal = offset != 0
    angle = np.pi * offset[off_diagonal] / k
    sign = np.where(offset[off_diagonal] % 2 == 0, 1.0, -1.0)
    denominator = np.sin(angle) if k % 2 == 1 else np.tan(angle)
    derivative[off_diagonal] = sign / (2.0 * denominator)
    return derivative * (2.0 * np.pi / k)


@lru_cache(maxsize=64)
def _rotation_generator(k: int) -> np.ndarray:
    centred = np.arange(k) - (k - 1) / 2.0
    identity = np.eye(k)
    derivative = fourier_derivative_matrix(k)
    # Row-major flattening: the row index r is the slow (left) Kronecker factor.
    d_dx = np.kron(identity, derivative)            # along columns (x grows with c)
    d_dy = -np.kron(derivative, identity)           # y grows as r decreases
    # The coordinates x, y are diagonal operators: scale rows instead of forming them
    # (x = I ⊗ diag(c), y = diag(−c) ⊗ I on the row-major grid).
    x = np.tile(centred, k)[:, None]
    y = np.repeat(-centred, k)[:, None]
    generator = y * d_dx - x * d_dy
    generator = 0.5 * (generator - generator.T)     # exact skew-symmetry in floating point
    generator.setflags(write=False)
    return generator


def rotation_generator(grid_shape: int | tuple[int, int]) -> np.ndarray:
    """``(N, N)`` skew-symmetric generator ``L = y∂_x − x∂_y`` of counter-clockwise rotation."""
    return _rotation_generator(square_grid_size(grid_shape))


def _index_permutation(k: int, transform) -> np.ndarray:
    indices = np.arange(k * k).reshape(k, k)
    moved = transform(indices)
    permutation = np.zeros((k * k, k * k))
    # new_field[p] = old_field[moved.flat[p]]
    permutation[np.arange(k * k), moved.ravel()] = 1.0
    return permutation


def quarter_turn_operator(grid_shape: int | tuple[int, int], turns: int = 1) -> np.ndarray:
    """``(N, N)`` permutation ``ρ(g)`` with ``(ρ f).reshape(k, k) == np.rot90(f.reshape(k, k), turns)``."""
    k = square_grid_size(grid_shape)
    return _index_permutation(k, lambda a: np.rot90(a, turns))


def reflection_operator(grid_shape: int | tuple[int, int]) -> np.ndarray:
    """``(N, N)`` permutation of the left-right flip ``x → −x`` (``np.fliplr``)."""
    k = square_grid_size(grid_shape)
    return _index_permutation(k, np.fliplr)


def rotation_operator(grid_shape: int | tuple[int, int], angle: float) -> np.ndarray:
    """``(N, N)`` orthogonal operator of a counter-clockwise rotation by ``angle`` radians.

    Multiples of π/2 return the exact permutation; other angles ``expm(angle · L)``.
    """
    k = square_grid_size(grid_shape)
    turns = angle / (np.pi / 2)
    if abs(turns - round(turns)) < 1e-12:
        return quarter_turn_operator(k, int(round(turns)) % 4)
    return expm(angle * _rotation_generator(k))


@lru_cache(maxsize=64)
def _bilinear_rotation_operator(k: int, angle: float, single: bool = False) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    pad = k // 2
    size = k + 2 * pad
    dtype = torch.float32 if single else torch.float64
    basis = torch.eye(k * k, dtype=dtype).reshape(k * k, 1, k, k)
    padded = F.pad(basis, (pad, pad, pad, pad), mode='circular') if pad else basis
    cos, sin = math.cos(angle), math.sin(angle)
    # Output pixel q samples the input at M q (x right, y down, centre origin): the content
    # turns counter-clockwise on screen, as mmsofteq.utils.rotate_field and np.rot90.
    theta = torch.tensor([[cos, -sin, 0.0], [sin, cos, 0.0]], dtype=dtype)
    grid = F.affine_grid(theta.expand(k * k, 2, 3), (k * k, 1, size, size), align_corners=False)
    rotated = F.grid_sample(padded, grid, mode='bilinear', padding_mode='zeros',
                            align_corners=False)
    columns = rotated[:, 0, pad:pad + k, pad:pad + k].reshape(k * k, k * k)  # row p: R e_p
    operator = columns.T.numpy().copy()
    operator.setflags(write=False)
    return operator


def bilinear_rotation_operator(grid_shape: int | tuple[int, int], angle: float,
                               single: bool = False) -> np.ndarray:
    """``(N, N)`` operator of the paper's bilinear rotation by ``angle`` radians (module
    docstring), float64: ``(R f).reshape(k, k)`` is ``f`` rotated counter-clockwise.

    ``single=True`` samples in float32 and returns that float32 matrix: the authors' rounding
    (their ``create_unit_rotation_action_matrix`` works in float32), within ~2e-6 of the
    float64 operator; ``method='schur_paper'`` builds its generator from it.
    """
    return _bilinear_rotation_operator(square_grid_size(grid_shape), float(angle), bool(single))


@lru_cache(maxsize=512)
def resampled_rotation_sparse(k: int, angle: float):
    """``(R, valid)`` of :func:`resampled_rotation_operator` with ``R`` a read-only
    ``scipy.sparse.csr_matrix`` (at most 4 non-zeros per row; cached per ``(k, angle)``)."""
    from scipy.sparse import csr_matrix

    size = k * k
    turns = angle / (np.pi / 2)
    if abs(turns - round(turns)) < 1e-12:
        operator = csr_matrix(quarter_turn_operator(k, int(round(turns)) % 4))
        valid = np.ones(size, dtype=bool)
    else:
        centre = (k - 1) / 2.0
        rows, cols = np.meshgrid(np.arange(k), np.arange(k), indexing='ij')
        x, y = (cols - centre).ravel(), (rows - centre).ravel()      # x right, y down
        cos, sin = math.cos(angle), math.sin(angle)
        # Output pixel q reads the input at M q, M = [[cos, -sin], [sin, cos]] (y down): the
        # content turns counter-clockwise on screen, as rotate_field and np.rot90.
        sample_col = cos * x - sin * y + centre
        sample_row = sin * x + cos * y + centre
        slack = 1e-9
        valid = ((sample_col >= -slack) & (sample_col <= k - 1 + slack)
                 & (sample_row >= -slack) & (sample_row <= k - 1 + slack))
        col0 = np.floor(sample_col + slack).astype(np.int64)
        row0 = np.floor(sample_row + slack).astype(np.int64)
        frac_col, frac_row = sample_col - col0, sample_row - row0
        output = np.arange(size)
        entries = []
        for d_row, d_col in ((0, 0), (0, 1), (1, 0), (1, 1)):
            row, col = row0 + d_row, col0 + d_col
            weight = ((frac_row if d_row else 1 - frac_row)
                      * (frac_col if d_col else 1 - frac_col))
            inside = (row >= 0) & (row < k) & (col >= 0) & (col < k) & (weight != 0)
            entries.append((weight[inside], output[inside], row[inside] * k + col[inside]))
        weights, outputs, inputs = (np.concatenate(parts) for parts in zip(*entries))
        operator = csr_matrix((weights, (outputs, inputs)), shape=(size, size))
    valid.setflags(write=False)
    return operator, valid


def resampled_rotation_operator(grid_shape: int | tuple[int, int],
                                angle: float) -> tuple[np.ndarray, np.ndarray]:
    """The evaluation's rotation of a ``k x k`` field by ``angle`` radians (counter-clockwise).

    Returns:
        ``(R, valid)``: ``R`` ``(N, N)`` float64 with ``(R f).reshape(k, k)`` equal to
        ``mmsofteq.utils.rotate_field(f, degrees(angle))`` (bilinear at pixel centres, zeros
        outside the grid); ``valid`` ``(N,)`` bool, the output pixels whose sample point lies
        inside the hull of pixel centres ``[0, k-1]²`` (all four bilinear neighbours exist,
        so no zero is read: a constant field stays constant there). Quarter turns give the
        exact ``np.rot90`` permutation and ``valid`` everywhere.
    """
    operator, valid = resampled_rotation_sparse(square_grid_size(grid_shape), float(angle))
    return operator.toarray(), valid


@lru_cache(maxsize=64)
def symmetry_adapted_blocks(grid_shape: int | tuple[int, int],
                            quarter_turns: bool = True) -> tuple[np.ndarray, ...]:
    """Orthonormal real bases of the isotypic components of the quarter (or half) turn.

    Any matrix ``G`` that commutes with the rotation ``S`` (``rot90`` if ``quarter_turns``,
    else ``rot180``) is block-diagonal in these bases, so ``eigh(G)`` splits into
    ``eigh(Bᵀ G B)`` per block: cost ``≈ 0.16 N³`` (quarter) or ``0.25 N³`` (half) instead of
    ``N³``. Built from the orbits ``(p, Sp, S²p, ...)`` of grid points:

    * quarter turn (orbits of 4, the centre alone): ``+1``: ``(1, 1, 1, 1)/2``;
      ``−1``: ``(1, −1, 1, −1)/2``; ``±i`` (real 2-D): ``(1, 0, −1, 0)/√2``, ``(0, 1, 0, −1)/√2``;
    * half turn (orbits of 2): ``(1, ±1)/√2``.

    Returns:
        Tuple of ``(N, d_j)`` float64 arrays with ``Σ d_j = N`` (empty blocks omitted).
    """
    k = square_grid_size(grid_shape)
    operator = quarter_turn_operator(k, 1 if quarter_turns else 2)
    image = operator.argmax(axis=0)           # operator @ e_p = e_{image[p]}
    seen = np.zeros(k * k, dtype=bool)
    columns: dict[str, list[np.ndarray]] = {'+1': [], '-1': [], 'pm_i': []}
    for start in range(k * k):
        if seen[start]:
            continue
        orbit = [start]
        while image[orbit[-1]] != start:
            orbit.append(int(image[orbit[-1]]))
        seen[orbit] = True
        size = len(orbit)
        vectors = np.zeros((k * k, size))
        vectors[orbit, np.arange(size)] = 1.0
        if size == 1:
            columns['+1'].append(vectors[:, 0])
        elif size == 2:
            columns['+1'].append((vectors[:, 0] + vectors[:, 1]) / np.sqrt(2))
            columns['-1'].append((vectors[:, 0] - vectors[:, 1]) / np.sqrt(2))
        else:
            columns['+1'].append(vectors.sum(1) / 2)
            columns['-1'].append((vectors[:, 0] - vectors[:, 1] + vectors[:, 2] - vectors[:, 3]) / 2)
            columns['pm_i'].append((vectors[:, 0] - vectors[:, 2]) / np.sqrt(2))
            columns['pm_i'].append((vectors[:, 1] - vectors[:, 3]) / np.sqrt(2))
    blocks = tuple(np.stack(vectors, axis=1) for vectors in columns.values() if vectors)
    for block in blocks:
        block.setflags(write=False)
    return blocks
