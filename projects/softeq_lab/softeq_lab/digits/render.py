"""Real handwritten digits composed into small segmentation and classification samples.

Source data: scikit-learn's bundled ``load_digits()`` -- the 1,797 8x8 scans of the UCI ML
"Optical Recognition of Handwritten Digits" test set (values 0..16). Nothing is downloaded.

This module is pure array code (numpy + PIL; scikit-learn imported lazily): it renders one
sample at a time from a ``numpy.random.Generator``. Writing folders, manifests and the safety
checks live in :mod:`softeq_lab.digits.writer`; the CLI is ``softeq_lab.digits.make_demo_data``.

Rotation margin: every labelled pixel (digit ink plus its ignore band) lies inside the disc
inscribed in the canvas, i.e. its pixel centre is at most ``(S - 1) / 2 - 0.5`` px from the
canvas centre ``((S - 1) / 2, (S - 1) / 2)``. A rotation by *any* angle about the centre (so the
U(-30°, 30°) of aIoU/aAcc) therefore keeps every digit inside the canvas; only background is
cut off.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

# Class 0 is background; digit d has class index d + 1 (so the VOC 255 stays "ignore").
DIGIT_NAMES = ('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine')
DEMO_CLASSES = ('background', ) + DIGIT_NAMES
IGNORE_INDEX = 255

# Classification: class index == digit. Folder names sort alphabetically in digit order, so
# mmpretrain's CustomDataset (which indexes sorted sub-folders) gets the right labels even
# without an annotation file.
DEMO_CLS_CLASSES = DIGIT_NAMES
DEMO_CLS_FOLDERS = tuple(f'{digit}_{name}' for digit, name in enumerate(DIGIT_NAMES))

NUM_SCANS = 1797
VAL_FRACTION = 0.25  # share of each digit's scans held out for ``val`` (both tasks)

# Random streams: one per (task, split), so e.g. changing ``num_val`` leaves ``train`` intact.
_STREAM_SPLIT = 0
_STREAMS = {('seg', 'train'): 1, ('seg', 'val'): 2, ('cls', 'train'): 3, ('cls', 'val'): 4}


def voc_colormap(num_colors: int = 256) -> np.ndarray:
    """PASCAL VOC's label colour map, ``(num_colors, 3)`` uint8 (bit-interleaved index bits).

    Entry 0 is black, 1 is (128, 0, 0), ..., 255 is (224, 224, 192) (the ignore colour).
    """
    cmap = np.zeros((num_colors, 3), dtype=np.uint8)
    for index in range(num_colors):
        value, red, green, blue = index, 0, 0, 0
        for shift in range(7, -1, -1):
            red |= ((value >> 0) & 1) << shift
            green |= ((value >> 1) & 1) << shift
            blue |= ((value >> 2) & 1) << shift
            value >>= 3
        cmap[index] = (red, green, blue)
    return cmap


# The first 11 VOC colours, as a tuple of [r, g, b] lists (the form mmseg's metainfo uses).
DEMO_PALETTE = tuple([int(c) for c in rgb] for rgb in voc_colormap(len(DEMO_CLASSES)))


def demo_seg_metainfo() -> dict:
    """``metainfo`` for mmseg's ``BaseSegDataset`` on ``data/demo_voc`` (fresh copies)."""
    return dict(classes=DEMO_CLASSES, palette=[list(rgb) for rgb in DEMO_PALETTE])


def demo_cls_metainfo() -> dict:
    """``metainfo`` for mmpretrain's ``CustomDataset`` on ``data/demo_digits_cls``."""
    return dict(classes=DEMO_CLS_CLASSES)


def split_scans(digits: np.ndarray, seed: int,
                val_fraction: float = VAL_FRACTION) -> Tuple[np.ndarray, np.ndarray]:
    """Disjoint, per-digit stratified scan indices ``(train_ids, val_ids)``, each sorted.

    ``round(val_fraction * n_d)`` scans of each digit ``d`` go to ``val``, the rest to ``train``.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f'val_fraction must lie in (0, 1), got {val_fraction}')
    rng = np.random.default_rng([seed, _STREAM_SPLIT])
    train, val = [], []
    for digit in range(10):
        ids = np.flatnonzero(digits == digit)
        ids = ids[rng.permutation(len(ids))]
        num_val = int(round(val_fraction * len(ids)))
        if num_val == 0 or num_val == len(ids):
            raise ValueError(f'val_fraction {val_fraction} leaves digit {digit} with an '
                             'empty split')
        val.append(ids[:num_val])
        train.append(ids[num_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def split_rng(task: str, split: str, seed: int) -> np.random.Generator:
    """The random stream of one (task, split); independent of every other stream."""
    return np.random.default_rng([seed, _STREAMS[(task, split)]])


class ScanStream:
    """Draws scan ids from a pool without replacement; reshuffles when the pool runs out."""

    def __init__(self, pool: Sequence[int], rng: np.random.Generator):
        self.pool = np.asarray(pool, dtype=np.int64)
        if self.pool.size == 0:
            raise ValueError('empty scan pool')
        self.rng = rng
        self._order: List[int] = []

    def next(self) -> int:
        if not self._order:
            self._order = self.pool[self.rng.permutation(self.pool.size)].tolist()[::-1]
        return self._order.pop()


def render_digit(scan: np.ndarray, ink_size: int) -> np.ndarray:
    """Upscale one 8x8 scan (values in [0, 1]) bilinearly (PIL) so its 8 px span ``ink_size``.

    The scan is zero-padded by one pixel first so the digit fades to 0 at the patch border;
    returns float32 ``(P, P)`` with ``P = round(10 * ink_size / 8)``, values in [0, 1].
    """
    padded = np.pad(np.asarray(scan, dtype=np.float32), 1)
    side = int(round(padded.shape[0] * ink_size / scan.shape[0]))
    patch = Image.fromarray(padded, mode='F').resize((side, side), Image.BILINEAR)
    return np.clip(np.asarray(patch, dtype=np.float32), 0.0, 1.0)


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation by a ``(2r+1)^2`` square (8-neighbourhood, ``radius`` steps)."""
    out = mask.copy()
    for _ in range(radius):
        grown = out.copy()
        grown[1:, :] |= out[:-1, :]
        grown[:-1, :] |= out[1:, :]
        grown[:, 1:] |= grown[:, :-1].copy()
        grown[:, :-1] |= grown[:, 1:].copy()
        out = grown
    return out


def rotation_safe_mask(size: int) -> np.ndarray:
    """Pixels whose centre lies within ``(size - 1) / 2 - 0.5`` of the canvas centre.

    Any rotation about the centre maps such a pixel inside the canvas.
    """
    centre = (size - 1) / 2.0
    coords = np.arange(size, dtype=np.float64) - centre
    radius = np.hypot(coords[:, None], coords[None, :])
    return radius <= centre - 0.5


def textured_background(rng: np.random.Generator, size: int,
                        base_color: np.ndarray) -> np.ndarray:
    """A mild texture: ``base_color`` + smooth 4x4 noise (sd 18) + pixel noise (sd 5); float32."""
    smooth = rng.normal(0.0, 18.0, size=(4, 4, 3)).astype(np.float32)
    channels = [
        np.asarray(Image.fromarray(smooth[..., c], mode='F').resize((size, size),
                                                                    Image.BILINEAR))
        for c in range(3)
    ]
    texture = np.stack(channels, axis=-1)
    noise = rng.normal(0.0, 5.0, size=(size, size, 3)).astype(np.float32)
    return np.asarray(base_color, dtype=np.float32) + texture + noise


def _luma(rgb: np.ndarray) -> float:
    return float(np.dot(np.asarray(rgb, dtype=np.float64), (0.299, 0.587, 0.114)))


def random_color(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random RGB colour (float64, 0..255)."""
    return rng.uniform(0.0, 255.0, size=3)


def contrasting_color(rng: np.random.Generator, background: np.ndarray,
                      min_contrast: float = 90.0, max_tries: int = 64) -> np.ndarray:
    """A random colour whose luma differs from ``background``'s by at least ``min_contrast``."""
    for _ in range(max_tries):
        color = random_color(rng)
        if abs(_luma(color) - _luma(background)) >= min_contrast:
            return color
    return 255.0 - np.asarray(background)  # pragma: no cover - vanishingly unlikely


@dataclass(frozen=True)
class Placement:
    """Where one scan went: its id, digit, ink size and the patch's top-left corner (y, x)."""
    scan_id: int
    digit: int
    ink_size: int
    top: int
    left: int


VISIBLE_ALPHA = 0.05  # intensity above which a digit pixel counts as visible (must stay in view)


def _masks(patch: np.ndarray, threshold: float, band: int) -> Tuple[np.ndarray, np.ndarray,
                                                                  np.ndarray]:
    """Masks of a rendered patch padded by ``band`` on every side.

    Returns ``(ink, labelled, extent)``: ``ink`` = intensity > ``threshold`` (gets the class),
    ``labelled`` = ink grown by ``band`` px (the rest of it gets ``IGNORE_INDEX``), ``extent`` =
    ``labelled`` or visibly tinted; ``extent`` must stay rotation-safe and never touch another
    digit's extent.
    """
    ink = np.pad(patch > threshold, band)
    labelled = dilate(ink, band)
    return ink, labelled, labelled | np.pad(patch > VISIBLE_ALPHA, band)


def _fits(occupied: np.ndarray, safe: np.ndarray, extent: np.ndarray, top: int,
          left: int) -> bool:
    """Whether ``extent`` placed at (top, left) lies in ``safe`` and misses ``occupied``."""
    height, width = extent.shape
    if top < 0 or left < 0 or top + height > safe.shape[0] or left + width > safe.shape[1]:
        return False
    window = (slice(top, top + height), slice(left, left + width))
    return not np.any(extent & ~safe[window]) and not np.any(extent & occupied[window])


def _draw_spot(rng: np.random.Generator, size: int, patch_side: int, fallback: bool
               ) -> Tuple[int, int]:
    if fallback:  # centred: fits whenever the digit fits the canvas at all
        return (size - patch_side) // 2, (size - patch_side) // 2
    return (int(rng.integers(0, size - patch_side + 1)),
            int(rng.integers(0, size - patch_side + 1)))


#: Default ink size (the digit's side) as fractions of the canvas, per task.
INK_FRACTIONS = {'seg': (0.25, 0.375), 'cls': (0.45, 0.6)}
#: The largest ink fraction that stays inside the rotation-safe disc (half-diagonal s/√2
#: within the inscribed radius), with a pixel to spare.
MAX_INK_FRACTION = 0.65


def ink_size_range(size: int, task: str,
                   fraction: Optional[Tuple[float, float]] = None) -> Tuple[int, int]:
    """Inclusive ink-size range in px: ``fraction`` of ``size`` (default
    :data:`INK_FRACTIONS`: seg 25%..37.5%, cls 45%..60%), at least 6 px."""
    low, high = INK_FRACTIONS[task] if fraction is None else fraction
    if not 0.0 < low <= high <= MAX_INK_FRACTION:
        raise ValueError(f'ink fraction must satisfy 0 < low <= high <= {MAX_INK_FRACTION} '
                         f'(rotation-safe), got ({low}, {high})')
    return max(6, int(round(low * size))), max(6, int(round(high * size)))


def compose_segmentation_sample(rng: np.random.Generator, scans: np.ndarray, digits: np.ndarray,
                                stream: ScanStream, size: int = 64, max_digits: int = 3,
                                boundary: int = 1, threshold: float = 0.5,
                                max_tries: int = 200,
                                ink_fraction: Optional[Tuple[float, float]] = None
                                ) -> Tuple[np.ndarray, np.ndarray, List[Placement]]:
    """One canvas: ``(image uint8 (S, S, 3) RGB, label uint8 (S, S), placements)``.

    1..``max_digits`` digits (ink ``ink_fraction`` of ``size``, default 25%..37.5%: 16-24 px
    at 64) in random colours at
    random non-overlapping, rotation-safe positions on a textured background. A pixel is
    labelled ``digit + 1`` where the digit's upscaled intensity exceeds ``threshold``; a
    ``boundary``-px band around each digit is ``IGNORE_INDEX`` (0 disables it); the rest is
    background 0. A digit that finds no free rotation-safe spot in ``max_tries`` draws is
    skipped (its scan is still consumed); the first digit always fits.
    """
    if size < 24:
        raise ValueError(f'canvas size must be >= 24 px, got {size}')
    if max_digits < 1 or boundary < 0:
        raise ValueError(f'need max_digits >= 1 and boundary >= 0, got {max_digits}, {boundary}')
    min_ink, max_ink = ink_size_range(size, 'seg', ink_fraction)
    safe = rotation_safe_mask(size)
    occupied = np.zeros((size, size), dtype=bool)  # extents of placed digits, grown by 1 px
    background = random_color(rng)
    image = textured_background(rng, size, background)
    label = np.zeros((size, size), dtype=np.uint8)
    placements: List[Placement] = []
    for index in range(int(rng.integers(1, max_digits + 1))):
        scan_id = stream.next()
        for attempt in range(max_tries):
            fallback = index == 0 and attempt == max_tries - 1
            ink_size = min_ink if fallback else int(rng.integers(min_ink, max_ink + 1))
            patch = render_digit(scans[scan_id], ink_size)
            ink, labelled, extent = _masks(patch, threshold, boundary)
            top, left = _draw_spot(rng, size, extent.shape[0], fallback)
            if _fits(occupied, safe, extent, top, left):
                break
        else:
            if index == 0:
                raise RuntimeError(f'no rotation-safe spot for a digit on a {size} px canvas')
            continue
        alpha = np.pad(patch, boundary)[..., None]
        window = (slice(top, top + extent.shape[0]), slice(left, left + extent.shape[1]))
        image[window] = image[window] * (1.0 - alpha) + contrasting_color(rng, background) * alpha
        label[window][labelled & ~ink] = IGNORE_INDEX
        label[window][ink] = digits[scan_id] + 1
        occupied[window] |= dilate(extent, 1)
        placements.append(Placement(int(scan_id), int(digits[scan_id]), ink_size, top, left))
    return np.clip(np.rint(image), 0, 255).astype(np.uint8), label, placements


def compose_classification_sample(rng: np.random.Generator, scans: np.ndarray,
                                  digits: np.ndarray, scan_id: int, size: int = 32,
                                  threshold: float = 0.5, max_tries: int = 100
                                  ) -> Tuple[np.ndarray, Placement]:
    """Scan ``scan_id`` on a ``size`` px textured image: ``(image uint8 (S, S, 3) RGB, placement)``.

    Ink spans 45%..60% of ``size`` (14-19 px at 32) at a random rotation-safe offset, so the
    whole digit stays in view under any rotation about the centre.
    """
    if size < 16:
        raise ValueError(f'classification image size must be >= 16 px, got {size}')
    min_ink, max_ink = ink_size_range(size, 'cls')
    safe = rotation_safe_mask(size)
    nothing = np.zeros((size, size), dtype=bool)
    background = random_color(rng)
    image = textured_background(rng, size, background)
    for attempt in range(max_tries):
        fallback = attempt == max_tries - 1
        ink_size = min_ink if fallback else int(rng.integers(min_ink, max_ink + 1))
        patch = render_digit(scans[scan_id], ink_size)
        _, _, extent = _masks(patch, threshold, 0)
        top, left = _draw_spot(rng, size, extent.shape[0], fallback)
        if _fits(nothing, safe, extent, top, left):
            break
    else:
        raise RuntimeError(f'no rotation-safe spot for a digit on a {size} px image')
    alpha = patch[..., None]
    window = (slice(top, top + patch.shape[0]), slice(left, left + patch.shape[1]))
    image[window] = image[window] * (1.0 - alpha) + contrasting_color(rng, background) * alpha
    placement = Placement(int(scan_id), int(digits[scan_id]), ink_size, top, left)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8), placement


def placement_masks(scans: np.ndarray, placement: Placement, size: int, threshold: float = 0.5,
                    band: int = 0) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ink, labelled, extent)`` masks of one placed digit on the full ``size`` canvas."""
    patch = render_digit(scans[placement.scan_id], placement.ink_size)
    masks = _masks(patch, threshold, band)
    out = []
    for mask in masks:
        canvas = np.zeros((size, size), dtype=bool)
        canvas[placement.top:placement.top + mask.shape[0],
               placement.left:placement.left + mask.shape[1]] = mask
        out.append(canvas)
    return tuple(out)


def label_to_palette_image(label: np.ndarray, colormap: Optional[np.ndarray] = None) -> Image.Image:
    """A mode-'P' PIL image of ``label`` carrying VOC's 256-colour palette."""
    image = Image.fromarray(np.asarray(label, dtype=np.uint8), mode='P')
    cmap = voc_colormap() if colormap is None else colormap
    image.putpalette(np.asarray(cmap, dtype=np.uint8).reshape(-1).tolist())
    return image
