"""Checks of one data sample that name its files when they fail.

PyTorch reports a bad sample deep inside a batch: ``Target 21 is out of bounds`` (a label value
``>= num_classes`` in the loss), ``stack expects each tensor to be equal size`` (a label map
whose size differs from its image's), and mmseg's IoU silently drops label values
``>= num_classes`` (``torch.histc`` ignores values outside its bins). These functions raise
``ValueError`` naming the sample's ``img_path`` / ``seg_map_path`` instead.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import torch

SOURCE_KEYS = ('img_path', 'seg_map_path')


def sample_source(sample: Any) -> str:
    """``'img_path=…, seg_map_path=…'`` of a data sample (an mmengine data element or its
    ``to_dict()``), or ``'a sample without img_path'``."""
    parts = []
    for key in SOURCE_KEYS:
        value = sample.get(key, None) if hasattr(sample, 'get') else None
        if value is not None:
            parts.append(f'{key}={value}')
    return ', '.join(parts) or 'a sample without img_path'


def label_values_problem(labels: torch.Tensor, num_classes: int,
                         ignore_index: Optional[int]) -> Optional[str]:
    """Why ``labels`` hold a value outside ``[0, num_classes)`` other than ``ignore_index``,
    or ``None``."""
    values = labels.reshape(-1)
    if ignore_index is not None:
        values = values[values != ignore_index]
    if values.numel() == 0:
        return None
    if values.is_floating_point() and not bool(torch.isfinite(values).all()):
        return 'non-finite label values'
    bad = values[(values < 0) | (values >= num_classes)]
    if bad.numel() == 0:
        return None
    shown = sorted({int(v) for v in bad.unique()[:5].tolist()})
    ignore = f', nor the ignore index {ignore_index}' if ignore_index is not None else ''
    return (f'{bad.numel()} label value(s) {shown} outside the {num_classes} classes '
            f'[0, {num_classes - 1}]{ignore}')


def check_labels(labels: torch.Tensor, num_classes: int, ignore_index: Optional[int],
                 sample: Any) -> None:
    """Raise ``ValueError`` naming the sample's files if :func:`label_values_problem`."""
    problem = label_values_problem(labels, num_classes, ignore_index)
    if problem is not None:
        raise ValueError(
            f'{sample_source(sample)}: {problem}. Fix the annotation, or set the dataset\'s '
            'classes / ignore_index (reduce_zero_label for labels starting at 1) to match it.')


def check_label_map_size(image: torch.Tensor, label_map: torch.Tensor, sample: Any) -> None:
    """Raise if a training sample's label map ``(1, H', W')`` differs in size from its image
    ``(C, H, W)`` after the pipeline."""
    if tuple(image.shape[-2:]) != tuple(label_map.shape[-2:]):
        raise ValueError(
            f'{sample_source(sample)}: the label map is {tuple(label_map.shape[-2:])} but the '
            f'image is {tuple(image.shape[-2:])} after the pipeline; an image and its '
            'annotation must have the same size on disk.')


def check_finite_inputs(inputs: torch.Tensor, samples: Sequence[Any], where: str) -> None:
    """Raise if an image of ``inputs (B, C, H, W)`` holds NaN / Inf (a float image file)."""
    if not inputs.is_floating_point():
        return
    finite = torch.isfinite(inputs.reshape(inputs.shape[0], -1)).all(dim=1)
    for index in (~finite).nonzero().flatten().tolist():
        image = inputs[index]
        nan, inf = int(torch.isnan(image).sum()), int(torch.isinf(image).sum())
        source = sample_source(samples[index]) if index < len(samples) else f'sample {index}'
        raise ValueError(
            f'{source}: the image holds {nan} NaN and {inf} Inf value(s) after the data '
            f'preprocessor; {where} would be undefined. Fix or remove the image.')
