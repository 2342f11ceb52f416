"""Generators acting on 2-D and 3-D vectors (e.g. a layer whose channels form vectors)."""
from __future__ import annotations

import numpy as np

_AXES = ('x', 'y', 'z')


def so2_generator() -> np.ndarray:
    """``J = [[0, −1], [1, 0]]``: counter-clockwise rotation of ``R²`` (``expm(tJ)`` = rotation by t)."""
    return np.array([[0.0, -1.0], [1.0, 0.0]])


def so3_generator(axis: str) -> np.ndarray:
    """``(3, 3)`` generator ``L_axis`` of rotations about ``axis`` ∈ {'x', 'y', 'z'}.

    ``L_z = [[0, −1, 0], [1, 0, 0], [0, 0, 0]]`` and cyclically (``(L_a)_{bc} = −ε_{abc}``).
    """
    if axis not in _AXES:
        raise ValueError(f"axis must be one of {_AXES}, got {axis!r}")
    a = _AXES.index(axis)
    generator = np.zeros((3, 3))
    b, c = (a + 1) % 3, (a + 2) % 3
    generator[c, b] = 1.0
    generator[b, c] = -1.0
    return generator


def vector_rotation(dim: int, angle: float, axis: str = 'z') -> np.ndarray:
    """Rotation by ``angle`` radians of ``R^dim`` (dim 2, or 3 about ``axis``)."""
    from scipy.linalg import expm
    generator = so2_generator() if dim == 2 else so3_generator(axis)
    return expm(angle * generator)


def vector_reflection(dim: int) -> np.ndarray:
    """Reflection ``x → −x`` of ``R^dim``: ``diag(−1, 1, ...)``."""
    if dim not in (2, 3):
        raise ValueError(f'vector dim must be 2 or 3, got {dim}')
    reflection = np.eye(dim)
    reflection[0, 0] = -1.0
    return reflection
