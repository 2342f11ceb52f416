"""``mmsofteq.RotatedIoUMetric``: clean and rotated segmentation scores and eErr.

Keys (all x100, i.e. percent for IoU/accuracy and 100 x nats for eErr):

==================  =====================================================================
``mIoU``            mean over classes of ``I_c / U_c`` on the clean images (as mmseg).
``aIoU``            the same on rotated images against labels rotated by nearest sampling,
                    pixels rotated in from outside the view = ignore index.
``cIoU``            ``sqrt(mIoU * aIoU)``.
``eErr``            mean over images of ``(sum_{valid p} KL(softmax(rot f(x))_p ||
                    softmax(f(rot x))_p)) / #valid``; valid = ``rot(ones) > 0.5``
                    (nearest, fill 0). Label-free: ignore-labelled pixels in view count.
``pixelAcc``        ``sum_c I_c / sum_c L_c`` on clean images (mmseg calls this ``aAcc``;
                    renamed because ``aAcc`` means *augmented* accuracy in the paper).
``mAcc``            mean over classes of ``I_c / L_c`` on clean images (as mmseg).
``rotated_pixelAcc`` / ``rotated_mAcc``  the same on rotated images.
==================  =====================================================================

Classes with ``U_c = 0`` (absent from labels and predictions) are left out of the means,
as in mmseg. Pixels labelled ``ignore_index`` never count in IoU/accuracy. A per-class
table (IoU and Acc, clean and rotated) is logged.

Needs the fields written by ``mmsofteq.RotatedValLoop``/``RotatedTestLoop``
(:mod:`mmsofteq.engine.runner.rotated_fields`). Memory per sample: two ``(4, C)``
histograms and one scalar.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from prettytable import PrettyTable

from mmsofteq.engine.runner import rotated_fields as fields
from mmsofteq.registry import METRICS
from ..statistics import (exact_mean, geometric_mean, iou_summary, mean_pixel_kl_divergence,
                          segmentation_histograms)

REQUIRED_FIELDS = ('pred_sem_seg', 'gt_sem_seg', 'seg_logits', fields.ROTATED_PRED_SEM_SEG,
                   fields.ROTATED_GT_SEM_SEG, fields.ROTATED_SEG_LOGITS,
                   fields.ROTATED_CLEAN_SEG_LOGITS, fields.ROTATION_VALID_MASK)


@METRICS.register_module()
class RotatedIoUMetric(BaseMetric):
    """Clean/rotated IoU, their combination and the pixel equivariance error.

    Args:
        ignore_index: label excluded from IoU and accuracy. Defaults to 255.
        iou_metrics: accepted for drop-in use where a config inherits mmseg's
            ``val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])``; only
            ``'mIoU'`` is supported (the IoU family is always reported).
        nan_to_num: if given, per-class NaNs (``U_c = 0``) become this value before the
            means, as in mmseg's ``IoUMetric``.
        collect_device: ``'cpu'`` or ``'gpu'`` (mmengine).
        prefix: optional key prefix (``'prefix/mIoU'``); none by default.
        collect_dir: see mmengine's ``BaseMetric``.

    Raises:
        ValueError: ``iou_metrics`` asks for something other than ``'mIoU'``.
    """

    default_prefix: Optional[str] = None

    def __init__(self,
                 ignore_index: int = 255,
                 iou_metrics: Sequence[str] = ('mIoU', ),
                 nan_to_num: Optional[float] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        requested = [iou_metrics] if isinstance(iou_metrics, str) else list(iou_metrics)
        unsupported = [name for name in requested if name != 'mIoU']
        if unsupported:
            raise ValueError(f'RotatedIoUMetric reports the IoU family only; {unsupported} '
                             "are not supported (use iou_metrics=['mIoU'])")
        self.ignore_index = int(ignore_index)
        self.nan_to_num = nan_to_num

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Reduce each sample to histograms ``(4, C)`` (clean, rotated) and its mean KL."""
        num_classes = len(self.dataset_meta['classes'])
        for sample in data_samples:
            missing = [key for key in REQUIRED_FIELDS if key not in sample]
            if missing:
                raise ValueError(
                    f'RotatedIoUMetric got a data sample without {missing}; it needs clean '
                    'logits and the rotated fields written by mmsofteq.RotatedValLoop / '
                    "RotatedTestLoop (set val_cfg/test_cfg=dict(type='mmsofteq.RotatedValLoop'"
                    " / 'mmsofteq.RotatedTestLoop'))")
            clean_logits = sample['seg_logits']['data']
            if clean_logits.shape[0] < 2:
                raise ValueError('eErr needs multi-class logits (C >= 2); got a '
                                 f'{clean_logits.shape[0]}-channel (sigmoid) segmentation')
            clean = segmentation_histograms(sample['pred_sem_seg']['data'],
                                            sample['gt_sem_seg']['data'], num_classes,
                                            self.ignore_index)
            rotated = segmentation_histograms(sample[fields.ROTATED_PRED_SEM_SEG]['data'],
                                              sample[fields.ROTATED_GT_SEM_SEG]['data'],
                                              num_classes, self.ignore_index)
            kl = mean_pixel_kl_divergence(sample[fields.ROTATED_CLEAN_SEG_LOGITS]['data'],
                                          sample[fields.ROTATED_SEG_LOGITS]['data'],
                                          sample[fields.ROTATION_VALID_MASK]['data'])
            self.results.append(
                dict(index=sample.get(fields.DATASET_INDEX), clean=clean, rotated=rotated,
                     kl=kl))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Sum histograms, average KLs (order-independent ``fsum``), report x100."""
        clean = iou_summary(np.sum([r['clean'] for r in results], axis=0), self.nan_to_num)
        rotated = iou_summary(np.sum([r['rotated'] for r in results], axis=0), self.nan_to_num)
        kls = [r['kl'] for r in results if r['kl'] is not None]
        miou, aiou = 100 * float(clean['mIoU']), 100 * float(rotated['mIoU'])
        metrics = OrderedDict(
            mIoU=miou,
            aIoU=aiou,
            cIoU=geometric_mean(miou, aiou),
            eErr=100 * exact_mean(kls),
            pixelAcc=100 * float(clean['pixel_acc']),
            mAcc=100 * float(clean['mAcc']),
            rotated_pixelAcc=100 * float(rotated['pixel_acc']),
            rotated_mAcc=100 * float(rotated['mAcc']),
        )
        self._log_class_table(clean, rotated)
        return dict(metrics)

    def _log_class_table(self, clean: dict, rotated: dict) -> None:
        logger: MMLogger = MMLogger.get_current_instance()
        table = PrettyTable()
        table.add_column('Class', list(self.dataset_meta['classes']))
        for title, values in (('IoU', clean['IoU']), ('Acc', clean['Acc']),
                              ('rotated IoU', rotated['IoU']), ('rotated Acc', rotated['Acc'])):
            table.add_column(title, np.round(values * 100, 2).tolist())
        print_log('per class results (clean and rotated):', logger)
        print_log('\n' + table.get_string(), logger=logger)
