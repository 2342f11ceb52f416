"""Data transforms registered in the ``mmsofteq`` scope."""
from __future__ import annotations

from mmcv.transforms import BaseTransform

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
