"""Data transforms registered in the ``mmsofteq`` scope."""
from __future__ import annotations

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.datasets.transforms import ColorJitter as _PretrainColorJitter
from PIL import Image

from ..registry import TRANSFORMS


@TRANSFORMS.register_module()
class ScoreAtInputSize(BaseTransform):
    """Make the current image size the "original" one: ``ori_shape = img_shape``.

    mmseg's segmentors resize their logits back to ``ori_shape`` before the metric compares
    them with ``gt_sem_seg``. The paper's VOC protocol squashes each test image *and its
    labels* to 224² / 512² (labels nearest) and scores at that size; with this transform after
    ``Resize(keep_ratio=False)`` (and ``LoadAnnotations`` before it, so the labels are resized
    too) mmseg's own evaluation does exactly that::

        test_pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                         dict(type='Resize', scale=(224, 224), keep_ratio=False),
                         dict(type='mmsofteq.ScoreAtInputSize'), dict(type='PackSegInputs')]

    Required keys: ``img_shape``. Modified keys: ``ori_shape``.
    """

    def transform(self, results: dict) -> dict:
        results['ori_shape'] = tuple(results['img_shape'][:2])
        return results


def adjust_hue(image: np.ndarray, hue_factor: float) -> np.ndarray:
    """Shift the hue of a BGR ``uint8`` image by ``hue_factor`` of a turn, ``[-0.5, 0.5]``.

    PIL's HSV hue is a ``uint8`` angle (256 steps per turn); the shift ``int(255·f)`` is added
    modulo 256, as mmcv's and torchvision's PIL routes do under numpy 1. mmcv 2.1.0 writes
    ``np.uint8(hue_factor * 255)``, which numpy >= 2 refuses for a negative factor
    (``OverflowError``): half of ``ColorJitter(hue=h)``'s draws.
    """
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f'hue_factor must be in [-0.5, 0.5], got {hue_factor}')
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise TypeError(f'adjust_hue needs a (H, W, 3) uint8 BGR image, got {image.dtype} '
                        f'{image.shape}')
    hue, saturation, value = Image.fromarray(image[..., ::-1], mode='RGB').convert('HSV').split()
    shifted = np.array(hue, dtype=np.uint8)
    shifted += np.uint8(int(hue_factor * 255) % 256)  # wraps around the colour circle
    merged = Image.merge('HSV', (Image.fromarray(shifted, 'L'), saturation, value))
    return np.ascontiguousarray(np.array(merged.convert('RGB'), dtype=np.uint8)[..., ::-1])


@TRANSFORMS.register_module()
class ColorJitter(_PretrainColorJitter):
    """mmpretrain's ``ColorJitter`` (same arguments, same random draws) whose hue step works
    under numpy >= 2 (:func:`adjust_hue`); use ``type='mmsofteq.ColorJitter'``.

    Required keys: ``img`` (BGR ``uint8``). Modified keys: ``img``.
    """

    def transform(self, results: dict) -> dict:
        image = results['img']
        order, brightness, contrast, saturation, hue = self._rand_params()
        for index in order:
            if index == 0 and brightness is not None:
                image = mmcv.adjust_brightness(image, brightness, backend=self.backend)
            elif index == 1 and contrast is not None:
                image = mmcv.adjust_contrast(image, contrast, backend=self.backend)
            elif index == 2 and saturation is not None:
                image = mmcv.adjust_color(image, alpha=saturation, backend=self.backend)
            elif index == 3 and hue is not None:
                image = adjust_hue(image, float(hue))
        results['img'] = image
        return results
