"""Projected kernels per softness (the paper's Fig. 1); no OpenMMLab imports.

A ``k x k`` kernel ``K`` becomes ``K_eff = reshape(vec(K) P_s)`` with
``P_s = invariant_projector(group, k, softness=s).matrix`` (``k² x k²``, symmetric), exactly
the map a projected conv applies to each ``(out, in)`` slice of its weight ``θ``
(``mmsofteq.nn.reparam``), and the PNG grid of them. Softness 0 keeps only the
group-invariant directions (for ``C4``: ``rot90(K_eff) == K_eff``), softness 1 gives ``K``
back.
"""
from __future__ import annotations

import os
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np
from softeq_lab.digits.scans import load_digit_scans, resize_scan

from mmsofteq.projection import invariant_projector

KERNEL_SOURCES = ('digit', 'random')


@dataclass(frozen=True)
class ProjectedKernel:
    """One projection of one kernel.

    Attributes:
        softness: the softness ``s`` used.
        kernel: ``(k, k)`` float64 projected kernel ``reshape(vec(K) P_s)``.
        kept: number of singular directions ``P_s`` keeps.
        total: ``k²``.
        bound: the certificate's bound constant ``β``.
    """
    softness: float
    kernel: np.ndarray
    kept: int
    total: int
    bound: float


def project_kernel(kernel: np.ndarray, group: str, softness_values: Sequence[float], *,
                   cutoff: str = 'hard', decay: Optional[float] = None,
                   method: str = 'auto', rounding: str = 'frequency',
                   generator: str = 'spectral') -> List[ProjectedKernel]:
    """Project a square kernel ``(k, k)`` at each softness (same order as given).

    Args:
        kernel: ``(k, k)`` real array, ``k >= 2``.
        group: ``'SO2' | 'O2' | 'C<n>' | 'D<n>'``.
        softness_values: each in ``[0, 1]``.
        cutoff, decay, method, rounding, generator: as in
            :func:`mmsofteq.projection.invariant_projector`.

    Raises:
        ValueError: non-square or too small kernel, empty or out-of-range softness values.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or kernel.shape[0] < 2:
        raise ValueError(f'kernel must be square (k, k) with k >= 2, got shape {kernel.shape}')
    if len(softness_values) == 0:
        raise ValueError('give at least one softness value')
    size = kernel.shape[0]
    results = []
    for softness in softness_values:
        softness = float(softness)
        if not 0.0 <= softness <= 1.0:
            raise ValueError(f'softness must lie in [0, 1], got {softness}')
        projector = invariant_projector(group, size, softness=softness, cutoff=cutoff,
                                        decay=decay, method=method, rounding=rounding,
                                        generator=generator)
        projected = (kernel.reshape(-1) @ projector.matrix).reshape(size, size)
        certificate = projector.certificate
        results.append(ProjectedKernel(softness, projected, int(certificate.kept),
                                       int(certificate.total), float(certificate.bound)))
    return results


def digit_kernel(size: int, index: int = 0) -> np.ndarray:
    """A real handwritten digit as a ``(size, size)`` kernel: scan ``index`` of scikit-learn's
    ``load_digits()`` (8 x 8, values in [0, 1]) resized bilinearly, minus its mean (a
    zero-mean pattern, like a trained edge/shape filter)."""
    if size < 2:
        raise ValueError(f'kernel size must be >= 2, got {size}')
    scans, _ = load_digit_scans()
    if not 0 <= index < len(scans):
        raise ValueError(f'digit index must lie in [0, {len(scans) - 1}], got {index}')
    kernel = resize_scan(scans[index], size)
    return kernel - kernel.mean()


def random_kernel(size: int, seed: int = 0) -> np.ndarray:
    """A ``(size, size)`` kernel of i.i.d. standard normal entries (``default_rng(seed)``)."""
    if size < 2:
        raise ValueError(f'kernel size must be >= 2, got {size}')
    return np.random.default_rng(seed).standard_normal((size, size))


def sample_kernels(source: str, size: int, count: int, seed: int = 0) -> List[np.ndarray]:
    """``count`` kernels of ``source`` (``'digit'``: scans ``seed, seed + 1, ...``;
    ``'random'``: seeds ``seed, seed + 1, ...``)."""
    if source not in KERNEL_SOURCES:
        raise ValueError(f'kernel source must be one of {KERNEL_SOURCES}, got {source!r}')
    if count < 1:
        raise ValueError(f'count must be >= 1, got {count}')
    make = digit_kernel if source == 'digit' else random_kernel
    return [make(size, seed + i) for i in range(count)]


def checkpoint_kernels(state_dict: dict, name: str,
                       slices: Sequence[Sequence[int]]) -> List[np.ndarray]:
    """``(k, k)`` slices ``weight[out, in]`` of the conv weight ``name`` of a state dict.

    Checkpoints of soft-equivariant models hold ``θ`` under the base model's keys, so these
    are the raw kernels the projector acts on.

    Raises:
        KeyError: ``name`` is not in the state dict (the message lists similar keys).
        ValueError: the tensor is not a square ``(O, I, k, k)`` conv weight, or a slice is
            out of range.
    """
    if name not in state_dict:
        conv_keys = [key for key in state_dict if getattr(state_dict[key], 'ndim', 0) == 4]
        hint = ', '.join(conv_keys[:12]) + (' ...' if len(conv_keys) > 12 else '')
        raise KeyError(f'{name!r} is not in the checkpoint; 4-d (conv) weights: {hint}')
    weight = state_dict[name]
    weight = weight.detach().cpu().double().numpy() if hasattr(weight, 'detach') else \
        np.asarray(weight, dtype=np.float64)
    if weight.ndim != 4 or weight.shape[-1] != weight.shape[-2]:
        raise ValueError(f'{name!r} must be a square conv weight (O, I, k, k), got shape '
                         f'{weight.shape}')
    kernels = []
    for out_index, in_index in slices:
        if not (0 <= out_index < weight.shape[0] and 0 <= in_index < weight.shape[1]):
            raise ValueError(f'slice ({out_index}, {in_index}) is outside {name!r} of shape '
                             f'{weight.shape}')
        kernels.append(weight[out_index, in_index])
    return kernels


def draw_projected_kernels(rows: Sequence[Sequence[ProjectedKernel]], path: str,
                           row_labels: Sequence[str] = (), title: str = '') -> str:
    """A grid of kernels: one row per original kernel, one column per softness (as given).
    Each row shares a symmetric colour scale (blue < 0 < red). Returns ``path``."""
    if not rows or not rows[0]:
        raise ValueError('no kernels to draw')
    from matplotlib.figure import Figure  # no pyplot: no global backend or figure state

    num_columns = len(rows[0])
    fig = Figure(figsize=(1.9 * num_columns, 1.9 * len(rows) + 0.5))
    axes = fig.subplots(len(rows), num_columns, squeeze=False)
    for row, kernels in enumerate(rows):
        vmax = max(float(np.abs(item.kernel).max()) for item in kernels) or 1.0
        for column, item in enumerate(kernels):
            axis = axes[row, column]
            axis.imshow(item.kernel, cmap='RdBu_r', vmin=-vmax, vmax=vmax,
                        interpolation='nearest')
            axis.set_xticks([])
            axis.set_yticks([])
            if row == 0:
                axis.set_title(f'softness {item.softness:g}', fontsize=9)
            axis.set_xlabel(f'kept {item.kept}/{item.total}', fontsize=7)
        if row < len(row_labels):
            axes[row, 0].set_ylabel(row_labels[row], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches='tight')
    return path
