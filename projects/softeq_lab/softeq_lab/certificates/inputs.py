"""Inputs for the certificate check: ``k x k`` fields on which a projected slice acts.

A source returns ``(count, k²)`` float64 fields, row-major like the projectors' grids:

* ``RandomPatches``: i.i.d. standard normal entries (every direction equally likely);
* ``DigitPatches``: crops of real handwritten digits (scikit-learn's bundled scans,
  ``softeq_lab.digits.scans``), one scan zero-padded by a pixel and resized so its 8 px span
  ``max(8, k)`` px per crop, so a ``k x k`` crop holds strokes or most of the digit;
* ``ImagePatches``: crops of grayscale images in [0, 1] (e.g. a folder of JPEG/PNG files).

Real crops whose values are (nearly) constant are redrawn: a constant field is invariant under
every rotation and would only dilute the maximum.
"""
from __future__ import annotations

import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import numpy as np
from softeq_lab.digits.scans import load_digit_scans, resize_scan
from PIL import Image

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')
#: A crop with peak-to-peak range below this (on [0, 1] images) counts as flat and is redrawn.
FLAT_RANGE = 1e-3


class PatchSource(Protocol):
    """``patches(k, count)`` → ``(count, k²)`` float64 fields."""

    def patches(self, size: int, count: int) -> np.ndarray:
        ...


@dataclass(frozen=True)
class RandomPatches:
    """Standard normal fields; the same ``(seed, k)`` always gives the same fields."""

    seed: int = 0

    def patches(self, size: int, count: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, size])
        return rng.standard_normal((count, size * size))


def _upscale(image: np.ndarray, size: int) -> np.ndarray:
    """``image`` bilinearly enlarged so its shorter side is at least ``size``."""
    height, width = image.shape
    if min(height, width) >= size:
        return image
    scale = size / min(height, width)
    shape = (max(size, int(round(width * scale))), max(size, int(round(height * scale))))
    resized = Image.fromarray(image.astype(np.float32), mode='F').resize(shape, Image.BILINEAR)
    return np.asarray(resized, dtype=np.float64)


def _random_crops(draw_image: Callable[[np.random.Generator], np.ndarray], size: int,
                  count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` non-flat ``size x size`` crops of images from ``draw_image(rng)``."""
    crops = []
    attempts = 0
    while len(crops) < count:
        attempts += 1
        if attempts > 50 * count:
            raise ValueError(f'found only {len(crops)} non-flat {size}x{size} crops in '
                             f'{attempts} draws; the images are (nearly) constant')
        image = _upscale(draw_image(rng), size)
        top = rng.integers(0, image.shape[0] - size + 1)
        left = rng.integers(0, image.shape[1] - size + 1)
        crop = image[top:top + size, left:left + size]
        if np.ptp(crop) >= FLAT_RANGE:
            crops.append(crop.reshape(-1))
    return np.asarray(crops, dtype=np.float64)


@dataclass(frozen=True)
class DigitPatches:
    """Crops of real handwritten digits (scikit-learn ``load_digits``, nothing downloaded)."""

    seed: int = 0

    def patches(self, size: int, count: int) -> np.ndarray:
        scans, _ = load_digit_scans()
        side = int(round(10 * max(8, size) / 8))  # the padded 10 px scan at 8 px -> max(8, k)

        def draw(rng: np.random.Generator) -> np.ndarray:
            padded = np.pad(scans[rng.integers(len(scans))], 1)
            return np.clip(resize_scan(padded, side), 0.0, 1.0)

        return _random_crops(draw, size, count, np.random.default_rng([self.seed, size]))


@dataclass(frozen=True)
class ImagePatches:
    """Crops of the given grayscale images (2-D arrays, values in [0, 1])."""

    images: Sequence[np.ndarray] = field(repr=False)
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.images:
            raise ValueError('ImagePatches needs at least one image')

    @classmethod
    def from_directory(cls, directory: str, max_images: int = 64,
                       seed: int = 0) -> 'ImagePatches':
        """The first ``max_images`` image files under ``directory`` (sorted, recursive)."""
        paths = sorted(osp.join(root, name) for root, _, names in os.walk(directory)
                       for name in names if name.lower().endswith(IMAGE_EXTENSIONS))
        if not paths:
            raise ValueError(f'no {IMAGE_EXTENSIONS} image under {directory!r}')
        images = [np.asarray(Image.open(path).convert('L'), dtype=np.float64) / 255.0
                  for path in paths[:max_images]]
        return cls(images, seed)

    def patches(self, size: int, count: int) -> np.ndarray:
        images = self.images

        def draw(rng: np.random.Generator) -> np.ndarray:
            return np.asarray(images[rng.integers(len(images))], dtype=np.float64)

        return _random_crops(draw, size, count, np.random.default_rng([self.seed, size]))


def patch_source(spec: str, seed: int = 0) -> PatchSource:
    """``'random'``, ``'digits'`` or a directory of images → a ``PatchSource``."""
    if spec == 'random':
        return RandomPatches(seed)
    if spec == 'digits':
        return DigitPatches(seed)
    if osp.isdir(spec):
        return ImagePatches.from_directory(spec, seed=seed)
    raise ValueError(f"inputs must be 'random', 'digits' or a directory of images, got {spec!r}")
