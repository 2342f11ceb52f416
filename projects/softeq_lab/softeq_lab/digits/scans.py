"""Real handwritten digits for the analysis tools: scikit-learn's bundled ``load_digits()``
(the 1,797 8x8 scans of the UCI ML digits test set; nothing is downloaded)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image


@lru_cache(maxsize=1)
def load_digit_scans() -> np.ndarray:
    """The scans as read-only float32 ``(1797, 8, 8)`` in ``[0, 1]`` (raw values / 16)."""
    from sklearn.datasets import load_digits
    scans = (np.asarray(load_digits().images, dtype=np.float64) / 16.0).astype(np.float32)
    scans.setflags(write=False)
    return scans


def resize_scan(scan: np.ndarray, size: int) -> np.ndarray:
    """One scan resized bilinearly (PIL) to ``(size, size)`` float64."""
    image = Image.fromarray(np.asarray(scan, dtype=np.float32), mode='F')
    return np.asarray(image.resize((size, size), Image.BILINEAR), dtype=np.float64)
