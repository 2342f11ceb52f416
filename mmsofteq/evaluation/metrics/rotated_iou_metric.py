"""``mmsofteq.RotatedIoUMetric``: clean and rotated segmentation scores and eErr.

Keys (all x100, i.e. percent for IoU/accuracy and 100 x nats for eErr). The clean keys are
mmseg's ``IoUMetric`` keys with the same meaning (``iou_metrics=['mIoU']``); the rotated ones
use the paper's names:

===================  ====================================================================
``aAcc``             clean pixel accuracy ``sum_c I_c / sum_c L_c`` (as mmseg).
``mIoU``             mean over classes of ``I_c / U_c`` on the clean images (as mmseg).
``mAcc``             mean over classes of ``I_c / L_c`` on the clean images (as mmseg).
``aIoU``             mIoU on rotated images against labels rotated by nearest sampling,
                     pixels rotated in from outside the view = ignore index.
``cIoU``             ``sqrt(mIoU * aIoU)``.
``eErr``             ``KL(softmax(rot f(x))_p || softmax(f(rot x))_p)`` over the valid pixels
                     ``p`` (``rot(ones) > 0.5``, nearest, fill 0; label-free: ignore-labelled
                     pixels in view count), reduced by ``eerr_reduction``: ``'image'``
                     (default) the mean over images of each image's mean over its valid
                     pixels; ``'pixel'`` one mean over every valid pixel of the evaluated set
                     (the paper's code pools the valid pixels of each batch).
``flip``             the pixel flip rate: % of the valid pixels whose predicted class differs
                     between ``rot f(x)`` and ``f(rot x)`` (reduced like eErr); next to eErr it
                     tells "predicts differently" from "is less sure".
``rotated_aAcc``     ``aAcc`` on the rotated images and labels.
``rotated_mAcc``     ``mAcc`` on the rotated images and labels.
``wIoU``             worst case (with the loop's ``worst_of=k``): mIoU of the histograms of
                     each image's worst of its ``k`` angles, the one with the lowest pixel
                     accuracy on its labelled in-view pixels (ties: the first angle).
``w_aAcc``           pixel accuracy of the same worst-case histograms.
===================  ====================================================================

With ``clean_metrics=False`` the clean keys are left out (mmseg's own ``IoUMetric`` reports
them next to this metric: what ``mmsofteq.RotatedValLoop`` sets up by default). Classes with
``U_c = 0`` (absent from labels and predictions) are left out of the means, as in mmseg.
Pixels labelled ``ignore_index`` never count in IoU/accuracy; any other label value outside
``[0, C)`` raises ``ValueError`` naming the sample's files (mmseg's ``IoUMetric`` drops such
pixels silently). A per-class table (IoU and Acc, clean and rotated) is logged.

Needs the fields written by ``mmsofteq.RotatedValLoop``/``RotatedTestLoop``
(:mod:`mmsofteq.structures.rotated_fields`). Memory per sample: two ``(4, C)`` histograms
and two scalars.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log

from ...registry import METRICS
from ...structures import rotated_fields as fields
from ...structures.sample_checks import check_labels
from ...utils import text_table
from ..statistics import (exact_mean, geometric_mean, iou_summary, pixel_flips,
                          segmentation_histograms, summed_pixel_kl_divergence)

EERR_REDUCTIONS = ('image', 'pixel')

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
        clean_metrics: also report the clean ``aAcc``/``mIoU``/``mAcc``.
        eerr_reduction: ``'image'`` or ``'pixel'`` (module docstring).
        per_image_file: if given, ``compute_metrics`` also writes every image's record
            (dataset index, clean/rotated ``(4, C)`` histograms, summed KL, flips, valid
            pixels) to this JSON file, for paired comparisons of two models on the same images
            (``statistics.paired_mean_difference`` / ``paired_bootstrap_iou``).
        collect_device: ``'cpu'`` or ``'gpu'`` (mmengine).
        prefix: optional key prefix (``'prefix/mIoU'``); none by default.
        collect_dir: see mmengine's ``BaseMetric``.

    Raises:
        ValueError: ``iou_metrics`` asks for something other than ``'mIoU'``, or an unknown
            ``eerr_reduction``.
    """

    default_prefix: Optional[str] = ''  # no prefix, and no "prefix is not set" warning

    def __init__(self,
                 ignore_index: int = 255,
                 iou_metrics: Sequence[str] = ('mIoU', ),
                 nan_to_num: Optional[float] = None,
                 clean_metrics: bool = True,
                 eerr_reduction: str = 'image',
                 per_image_file: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        requested = [iou_metrics] if isinstance(iou_metrics, str) else list(iou_metrics)
        unsupported = [name for name in requested if name != 'mIoU']
        if unsupported:
            raise ValueError(f'RotatedIoUMetric reports the IoU family only; {unsupported} '
                             "are not supported (use iou_metrics=['mIoU'])")
        if eerr_reduction not in EERR_REDUCTIONS:
            raise ValueError(f'RotatedIoUMetric eerr_reduction must be one of '
                             f'{EERR_REDUCTIONS}, got {eerr_reduction!r}')
        self.ignore_index = int(ignore_index)
        self.nan_to_num = nan_to_num
        self.clean_metrics = bool(clean_metrics)
        self.eerr_reduction = eerr_reduction
        self.per_image_file = per_image_file

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Reduce each sample to histograms ``(4, C)`` (clean, rotated) and its summed KL
        with the number of valid pixels."""
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
            check_labels(sample['gt_sem_seg']['data'], num_classes, self.ignore_index, sample)
            clean = segmentation_histograms(sample['pred_sem_seg']['data'],
                                            sample['gt_sem_seg']['data'], num_classes,
                                            self.ignore_index)
            rotated = segmentation_histograms(sample[fields.ROTATED_PRED_SEM_SEG]['data'],
                                              sample[fields.ROTATED_GT_SEM_SEG]['data'],
                                              num_classes, self.ignore_index)
            kl_sum, valid = summed_pixel_kl_divergence(
                sample[fields.ROTATED_CLEAN_SEG_LOGITS]['data'],
                sample[fields.ROTATED_SEG_LOGITS]['data'],
                sample[fields.ROTATION_VALID_MASK]['data'])
            flips, _ = pixel_flips(sample[fields.ROTATED_CLEAN_SEG_LOGITS]['data'],
                                   sample[fields.ROTATED_SEG_LOGITS]['data'],
                                   sample[fields.ROTATION_VALID_MASK]['data'])
            record = dict(index=sample.get(fields.DATASET_INDEX), clean=clean,
                          rotated=rotated, kl_sum=kl_sum, flips=flips, valid=valid)
            if fields.WORST_CASE_PRED_SEM_SEG in sample:
                record['worst'] = worst_case_histogram(
                    sample[fields.WORST_CASE_PRED_SEM_SEG]['data'],
                    sample[fields.WORST_CASE_GT_SEM_SEG]['data'], num_classes,
                    self.ignore_index)
            self.results.append(record)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Sum histograms, reduce the KLs (order-independent ``fsum``), report x100."""
        clean = iou_summary(np.sum([r['clean'] for r in results], axis=0), self.nan_to_num)
        rotated = iou_summary(np.sum([r['rotated'] for r in results], axis=0), self.nan_to_num)
        miou, aiou = 100 * float(clean['mIoU']), 100 * float(rotated['mIoU'])
        metrics = OrderedDict()
        if self.clean_metrics:
            metrics.update(aAcc=100 * float(clean['pixel_acc']), mIoU=miou,
                           mAcc=100 * float(clean['mAcc']))
        metrics.update(aIoU=aiou, cIoU=geometric_mean(miou, aiou),
                       eErr=100 * self._reduce(results, 'kl_sum'),
                       flip=100 * self._reduce(results, 'flips'),
                       rotated_aAcc=100 * float(rotated['pixel_acc']),
                       rotated_mAcc=100 * float(rotated['mAcc']))
        worst = [r['worst'] for r in results if 'worst' in r]
        if worst:
            if len(worst) != len(results):
                raise ValueError(f'{len(worst)} of {len(results)} samples carry worst-case '
                                 'predictions; run every sample with the same worst_of')
            summary = iou_summary(np.sum(worst, axis=0), self.nan_to_num)
            metrics.update(wIoU=100 * float(summary['mIoU']),
                           w_aAcc=100 * float(summary['pixel_acc']))
        self._log_class_table(clean, rotated)
        if self.per_image_file:
            write_per_image(self.per_image_file, results)
        return dict(metrics)

    def _reduce(self, results: List[dict], key: str) -> float:
        """A per-pixel sum (``kl_sum``: eErr in nats; ``flips``: flip fraction) reduced by
        ``eerr_reduction``: mean of per-image means, or one mean over all valid pixels."""
        with_pixels = [r for r in results if r['valid'] > 0]
        if self.eerr_reduction == 'image':
            return exact_mean([r[key] / r['valid'] for r in with_pixels])
        total = sum(r['valid'] for r in with_pixels)
        return math.fsum(r[key] for r in with_pixels) / total if total else float('nan')

    def _log_class_table(self, clean: dict, rotated: dict) -> None:
        logger: MMLogger = MMLogger.get_current_instance()
        columns = [np.round(values * 100, 2).tolist() for values in (
            clean['IoU'], clean['Acc'], rotated['IoU'], rotated['Acc'])]
        rows = [[name, *values] for name, *values in zip(self.dataset_meta['classes'], *columns)]
        print_log('per class results (clean and rotated):', logger)
        print_log('\n' + text_table(['Class', 'IoU', 'Acc', 'rotated IoU', 'rotated Acc'], rows),
                  logger=logger)


def worst_case_histogram(predictions, labels, num_classes: int,
                         ignore_index: int) -> np.ndarray:
    """``(4, C)`` histograms of the angle whose prediction has the lowest pixel accuracy
    (``predictions``, ``labels``: ``(k, H, W)``; an angle without labelled pixels is never
    the worst; ties: the first)."""
    histograms = [segmentation_histograms(predictions[j], labels[j], num_classes,
                                          ignore_index) for j in range(predictions.shape[0])]
    accuracies = [h[0].sum() / h[3].sum() if h[3].sum() > 0 else math.inf
                  for h in histograms]
    return histograms[int(np.argmin(accuracies))]


def write_per_image(path: str, results: List[dict]) -> None:
    """Write the per-image records (sorted by dataset index) to ``path`` as JSON, atomically
    (a temporary file in the same folder, then ``os.replace``)."""
    records = sorted(({'index': r['index'], 'clean': np.asarray(r['clean']).tolist(),
                       'rotated': np.asarray(r['rotated']).tolist(), 'kl_sum': r['kl_sum'],
                       'flips': r['flips'], 'valid': r['valid']} for r in results),
                     key=lambda record: (record['index'] is None, record['index'] or 0))
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with tempfile.NamedTemporaryFile('w', dir=folder, suffix='.tmp', delete=False) as file:
        json.dump(records, file)
    os.replace(file.name, path)
