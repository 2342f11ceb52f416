"""Rotation of image-like tensors about their centre (no expand), for rotated evaluation.

Convention: a positive angle rotates the *content* counter-clockwise on screen (rows grow
downwards), like ``torchvision.transforms.functional.rotate`` and ``torch.rot90(x, 1,
dims=(-2, -1))`` for 90 degrees. Output pixel ``p`` samples the input at ``M p`` with

    M = [[cos a, -sin a],
         [sin a,  cos a]]        (x to the right, y downwards, origin at the centre)

Resampling uses ``torch.nn.functional.grid_sample`` (``align_corners=False``): pixel centres
are the sample points, out-of-view samples read 0 (``padding_mode='zeros'``).

*Frames.* A tensor may be a resized view of the scene whose geometry is defined elsewhere
(an image resized to ``img_shape`` whose labels live at ``ori_shape``). The rotation is
defined in the physical geometry of a *frame* of ``frame_hw = (H, W)`` pixels; in the
normalised coordinates of ``affine_grid`` it is

    theta = [[cos a,            -sin a * H / W, 0],
             [sin a * W / H,     cos a,         0]]

which does not depend on the tensor's own resolution, so the same rotation is applied to
an image at any resolution and to its labels/logits at label resolution. Multiples of 90
degrees use exact cosines/sines, ``torch.rot90`` when tensor and frame are square, and
float64 resampling otherwise, so quarter turns move pixel values without blurring them.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

_QUARTER_TURN_TOLERANCE = 1e-9


def quarter_turns(angle_degrees: float) -> Optional[int]:
    """``k`` in ``{0, 1, 2, 3}`` if the angle is ``90 k`` degrees (mod 360), else ``None``."""
    turns = angle_degrees / 90.0
    nearest = round(turns)
    if abs(turns - nearest) > _QUARTER_TURN_TOLERANCE:
        return None
    return int(nearest) % 4


def rotation_sampling_matrix(angle_degrees: float, frame_hw: Sequence[int]) -> torch.Tensor:
    """The ``(2, 3)`` float64 ``theta`` of ``affine_grid`` rotating by ``angle_degrees``.

    Args:
        angle_degrees: counter-clockwise angle.
        frame_hw: ``(H, W)`` of the frame whose physical geometry defines the rotation.
    """
    frame_h, frame_w = (float(s) for s in frame_hw[-2:])
    if frame_h <= 0 or frame_w <= 0:
        raise ValueError(f'frame size must be positive, got {tuple(frame_hw)}')
    turns = quarter_turns(angle_degrees)
    if turns is not None:
        cos, sin = ((1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0))[turns]
    else:
        radians = math.radians(angle_degrees)
        cos, sin = math.cos(radians), math.sin(radians)
    return torch.tensor([[cos, -sin * frame_h / frame_w, 0.0],
                         [sin * frame_w / frame_h, cos, 0.0]], dtype=torch.float64)


def rotate_field(field: torch.Tensor,
                 angle_degrees: float,
                 frame_hw: Optional[Sequence[int]] = None,
                 mode: str = 'bilinear') -> torch.Tensor:
    """Rotate a floating-point field ``(..., h, w)`` about its centre; out-of-view reads 0.

    Args:
        field: ``(..., h, w)`` floating tensor (e.g. ``(C, h, w)`` image or logits).
        angle_degrees: counter-clockwise angle.
        frame_hw: frame defining the geometry (default: the field's own ``(h, w)``).
        mode: ``'bilinear'`` (images, logits) or ``'nearest'`` (labels, masks).

    Returns:
        A new tensor of the same shape, dtype and device.
    """
    if field.ndim < 2:
        raise ValueError(f'field must have at least 2 dims (..., h, w), got {tuple(field.shape)}')
    if not field.is_floating_point():
        raise TypeError(f'rotate_field needs a floating tensor, got {field.dtype}; '
                        'use rotate_label_map for integer labels')
    height, width = field.shape[-2:]
    frame = (height, width) if frame_hw is None else tuple(frame_hw[-2:])
    turns = quarter_turns(angle_degrees)
    if turns == 0:
        return field.clone()
    if turns is not None and height == width and frame[0] == frame[1]:
        return torch.rot90(field, turns, dims=(-2, -1)).contiguous()
    # Quarter turns of non-square frames resample in float64 so that sample points land on
    # pixel centres to ~1e-16 and the result is exact after casting back.
    work_dtype = torch.float64 if turns is not None else field.dtype
    batch = field.reshape(1, -1, height, width).to(work_dtype)
    grid = sampling_grid(angle_degrees, frame, (height, width), field.device).to(work_dtype)
    rotated = F.grid_sample(batch, grid, mode=mode, padding_mode='zeros', align_corners=False)
    return rotated.to(field.dtype).reshape(field.shape)


def sampling_grid(angle_degrees: float, frame_hw: Sequence[int], size_hw: Sequence[int],
                  device: Optional[torch.device] = None) -> torch.Tensor:
    """The ``(1, h, w, 2)`` float64 ``grid_sample`` grid of the rotation for a tensor of
    spatial size ``size_hw``: ``affine_grid(theta, align_corners=False)`` computed by
    broadcasting (pixel centres ``x_n = (2 j + 1) / w - 1``), which on CPU is far cheaper than
    ``affine_grid``'s batched matrix product."""
    theta = rotation_sampling_matrix(angle_degrees, frame_hw).to(device)
    height, width = (int(s) for s in size_hw[-2:])
    xs = (2 * torch.arange(width, dtype=torch.float64, device=device) + 1) / width - 1
    ys = (2 * torch.arange(height, dtype=torch.float64, device=device) + 1) / height - 1
    grid_x = theta[0, 0] * xs[None, :] + theta[0, 1] * ys[:, None] + theta[0, 2]
    grid_y = theta[1, 0] * xs[None, :] + theta[1, 1] * ys[:, None] + theta[1, 2]
    return torch.stack([grid_x, grid_y], dim=-1)[None]


def rotation_valid_mask(size_hw: Sequence[int],
                        angle_degrees: float,
                        frame_hw: Optional[Sequence[int]] = None,
                        device: Optional[torch.device] = None) -> torch.Tensor:
    """Bool ``(h, w)`` mask of the pixels that stay in view: a ones image rotated
    (nearest, fill 0) and thresholded at 0.5."""
    height, width = (int(s) for s in size_hw[-2:])
    ones = torch.ones(1, height, width, dtype=torch.float32, device=device)
    return rotate_field(ones, angle_degrees, frame_hw, mode='nearest')[0] > 0.5


def rotate_label_map(labels: torch.Tensor,
                     angle_degrees: float,
                     ignore_index: int = 255,
                     frame_hw: Optional[Sequence[int]] = None,
                     in_view: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Rotate an integer label map ``(..., h, w)`` with nearest sampling; pixels rotated in
    from outside the view get ``ignore_index``. Same shape and dtype as ``labels``.

    ``in_view`` may pass the already computed :func:`rotation_valid_mask` of this rotation.
    """
    if labels.numel() and int(labels.abs().max()) >= 2**24:
        raise ValueError('label values must be below 2**24 (exact in float32)')
    rotated = rotate_field(labels.to(torch.float32), angle_degrees, frame_hw, mode='nearest')
    if in_view is None:
        in_view = rotation_valid_mask(labels.shape[-2:], angle_degrees, frame_hw, labels.device)
    return torch.where(in_view, rotated, float(ignore_index)).to(labels.dtype)


def content_region(metainfo: dict, padded_hw: Sequence[int]) -> Tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` slice bounds of an image's content inside a padded
    batch tensor of spatial size ``padded_hw``.

    Uses mmseg's ``img_padding_size``/``padding_size`` (``[left, right, top, bottom]``)
    when present, else the top-left ``img_shape`` (mmseg/mmpretrain pad bottom/right),
    else the whole tensor.
    """
    height, width = (int(s) for s in padded_hw[-2:])
    padding = metainfo.get('img_padding_size', metainfo.get('padding_size'))
    if padding is not None:
        left, right, top, bottom = (int(p) for p in padding)
        region = (top, height - bottom, left, width - right)
    elif metainfo.get('img_shape') is not None:
        img_h, img_w = (int(s) for s in metainfo['img_shape'][:2])
        region = (0, min(img_h, height), 0, min(img_w, width))
    else:
        region = (0, height, 0, width)
    top, bottom, left, right = region
    if not (0 <= top < bottom <= height and 0 <= left < right <= width):
        raise ValueError(f'image content region {region} (from metainfo) does not fit the '
                         f'batch tensor of size {(height, width)}')
    return region
