"""PNG figures: clean vs rotated predictions (with the eErr map) and projected kernels.

matplotlib is imported inside the functions with the ``Agg`` backend (no display needed).
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np

from .kernels import ProjectedKernel
from .rotated_examples import ClassificationExample, SegmentationExample

IGNORE_COLOUR = (224, 224, 192)  # VOC's colour of label 255


def colorize_labels(labels: np.ndarray, palette: Sequence[Sequence[int]],
                    ignore_index: int = 255) -> np.ndarray:
    """``(H, W)`` class indices -> ``(H, W, 3)`` uint8 RGB; ``ignore_index`` and indices
    outside the palette are drawn in VOC's ignore colour."""
    palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    labels = np.asarray(labels)
    rgb = np.empty(labels.shape + (3, ), dtype=np.uint8)
    rgb[...] = IGNORE_COLOUR
    known = (labels >= 0) & (labels < len(palette)) & (labels != ignore_index)
    rgb[known] = palette[labels[known]]
    return rgb


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path: str) -> str:
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches='tight')
    _pyplot().close(fig)
    return path


def draw_segmentation_examples(examples: Sequence[SegmentationExample],
                               palette: Sequence[Sequence[int]], path: str,
                               title: str = '',
                               class_names: Optional[Sequence[str]] = None) -> str:
    """One row per example: image | ground truth | prediction | rotated image | prediction
    on the rotated image | eErr map (``100 x KL_p``, grey outside the valid pixels; one
    colour scale for all rows). With ``class_names``, a legend lists the classes that appear
    in the label panels. Returns ``path``."""
    if not examples:
        raise ValueError('no examples to draw')
    plt = _pyplot()
    columns = ('image', 'ground truth', 'prediction', 'rotated image',
               'prediction (rotated)', 'eErr map (100·KL)')
    maps = [100 * example.kl_map for example in examples]
    finite = np.concatenate([m[np.isfinite(m)] for m in maps] + [np.zeros(1)])
    vmax = max(float(np.percentile(finite, 99.5)), 1e-6)
    fig, axes = plt.subplots(len(examples), len(columns), squeeze=False,
                             figsize=(2.2 * len(columns), 2.3 * len(examples) + 0.4))
    image = None
    for row, (example, kl_map) in enumerate(zip(examples, maps)):
        panels = (example.image, colorize_labels(example.gt, palette),
                  colorize_labels(example.pred, palette), example.rotated_image,
                  colorize_labels(example.rotated_pred, palette))
        for column, panel in enumerate(panels):
            axes[row, column].imshow(panel, interpolation='nearest')
        cmap = plt.get_cmap('magma').copy()
        cmap.set_bad((0.6, 0.6, 0.6))
        image = axes[row, 5].imshow(np.ma.masked_invalid(kl_map), cmap=cmap, vmin=0.0,
                                    vmax=vmax, interpolation='nearest')
        axes[row, 0].set_ylabel(f'{example.name}\n{example.angle:+.1f}°', fontsize=8)
        axes[row, 3].set_title(f'{example.angle:+.1f}°', fontsize=8)
        axes[row, 5].set_title(f'eErr {example.eerr:.2f}', fontsize=8)
        for column in range(len(columns)):
            axes[row, column].set_xticks([])
            axes[row, column].set_yticks([])
    for column, name in enumerate(columns):
        top = axes[0, column]
        extra = top.get_title()
        top.set_title(f'{name}\n{extra}' if extra else name, fontsize=9)
    fig.colorbar(image, ax=axes[:, 5].tolist(), shrink=0.8, label='100 · KL (nats)')
    if class_names:
        _class_legend(fig, examples, palette, class_names)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def _class_legend(fig, examples, palette, class_names) -> None:
    from matplotlib.patches import Patch
    shown = set()
    for example in examples:
        for labels in (example.gt, example.pred, example.rotated_pred):
            shown.update(int(v) for v in np.unique(labels))
    handles = [Patch(color=np.asarray(palette[i]) / 255.0, label=class_names[i])
               for i in sorted(shown) if 0 <= i < min(len(palette), len(class_names))]
    if 255 in shown:
        handles.append(Patch(color=np.asarray(IGNORE_COLOUR) / 255.0, label='ignore (255)'))
    fig.legend(handles=handles, loc='lower center', ncol=min(len(handles), 12), fontsize=8,
               frameon=False, bbox_to_anchor=(0.5, -0.02))


def draw_classification_examples(examples: Sequence[ClassificationExample],
                                 class_names: Sequence[str], path: str,
                                 title: str = '') -> str:
    """Pairs of (image, rotated image) with label, predictions and the image's iErr term
    (``100 x KL``). Returns ``path``."""
    if not examples:
        raise ValueError('no examples to draw')
    plt = _pyplot()
    columns = min(4, len(examples))
    rows = -(-len(examples) // columns)
    fig, axes = plt.subplots(rows, 2 * columns, squeeze=False,
                             figsize=(2.0 * 2 * columns, 2.4 * rows + 0.4))
    for axis in axes.flat:
        axis.set_axis_off()
    for index, example in enumerate(examples):
        row, column = divmod(index, columns)
        clean, rotated = axes[row, 2 * column], axes[row, 2 * column + 1]
        clean.imshow(example.image, interpolation='nearest')
        clean.set_title(f'label {class_names[example.label]}\npred {class_names[example.pred]}'
                        f' ({example.score:.2f})', fontsize=8)
        rotated.imshow(example.rotated_image, interpolation='nearest')
        rotated.set_title(f'{example.angle:+.1f}°, iErr {example.kl:.1f}\npred '
                          f'{class_names[example.rotated_pred]} ({example.rotated_score:.2f})',
                          fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def draw_projected_kernels(rows: Sequence[Sequence[ProjectedKernel]], path: str,
                           row_labels: Sequence[str] = (), title: str = '') -> str:
    """A grid of kernels: one row per original kernel, one column per softness (as given).
    Each row shares a symmetric colour scale (blue < 0 < red). Returns ``path``."""
    if not rows or not rows[0]:
        raise ValueError('no kernels to draw')
    plt = _pyplot()
    num_columns = len(rows[0])
    fig, axes = plt.subplots(len(rows), num_columns, squeeze=False,
                             figsize=(1.9 * num_columns, 1.9 * len(rows) + 0.5))
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
    return _save(fig, path)
