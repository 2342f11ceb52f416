"""Real handwritten digits: scikit-learn's bundled ``load_digits()`` (the 1,797 8x8 scans of the
UCI ML digits test set; nothing is downloaded), read once per process."""
from __future__ import annotations

from functools import lru_cache
from typing import Tuple

import numpy as np
from PIL import Image


@lru_cache(maxsize=1)
def load_digit_scans() -> Tuple[np.ndarray, np.ndarray]:
    """The scans as read-only float32 ``(1797, 8, 8)`` in ``[0, 1]`` (raw values / 16) and
    their read-only int64 digits ``(1797,)``."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError('the demo data is made from scikit-learn\'s bundled load_digits(); '
                          'install it with `pip install scikit-learn`') from error
    digits = load_digits()
    scans = (np.asarray(digits.images, dtype=np.float64) / 16.0).astype(np.float32)
    labels = np.asarray(digits.target, dtype=np.int64)
    scans.setflags(write=False)
    labels.setflags(write=False)
    return scans, labels


def resize_scan(scan: np.ndarray, size: int) -> np.ndarray:
    """One scan resized bilinearly (PIL) to ``(size, size)`` float64."""
    image = Image.fromarray(np.asarray(scan, dtype=np.float32), mode='F')
    return np.asarray(image.resize((size, size), Image.BILINEAR), dtype=np.float64)
