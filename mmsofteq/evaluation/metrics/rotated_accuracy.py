"""``mmsofteq.RotatedAccuracy``: clean/rotated top-k accuracy and the invariance error.

Keys (all x100). The clean keys are mmpretrain's ``Accuracy`` keys with the same meaning; the
rotated ones are named after them (the paper's classification **aAcc** is
``rotated_accuracy/top1``):

===========================  ==============================================================
``accuracy/top{k}``          top-k accuracy on clean images, percent (as mmpretrain).
``rotated_accuracy/top{k}``  top-k accuracy on images rotated by their seeded angle
                             (bilinear, centre pivot, fill 0 after normalisation, no
                             expand), percent: the paper's aAcc for k = 1.
``cAcc``                     ``sqrt(accuracy/top1 * rotated_accuracy/top1)``, percent.
``iErr``                     ``mean_x KL(softmax f(x) || softmax f(rot x))`` x 100.
``wAcc``                     worst case (with the loop's ``worst_of=k``): % of images whose
                             label is top-1 at every one of their ``k`` angles (Engstrom et
                             al., ICML 2019).
===========================  ==============================================================

``topk`` as mmpretrain's (``1`` is always reported). With ``clean_metrics=False`` the clean
keys are left out (mmpretrain's own ``Accuracy`` reports them next to this metric: what
``mmsofteq.RotatedValLoop`` sets up by default). A label is among the top ``k`` when fewer
than ``k`` classes score higher, ties broken by the lower class index (as ``argmax``).

The prediction is ``argmax pred_score`` (mmpretrain's ``pred_score`` is the softmax of
the logits). Needs ``rotated_pred_score`` from ``mmsofteq.RotatedValLoop``/
``RotatedTestLoop``. Memory per sample: two integers and one scalar.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.evaluator import BaseMetric

from ...registry import METRICS
from ...structures import rotated_fields as fields
from ...structures.sample_checks import check_labels
from ..statistics import (check_probability_vector, exact_mean, geometric_mean,
                          kl_divergence_of_probabilities)


@METRICS.register_module()
class RotatedAccuracy(BaseMetric):
    """Top-1 accuracy on clean and rotated images, and the KL invariance error.

    Args:
        topk: ranks to report; 1 is always reported.
        clean_metrics: also report the clean ``accuracy/top{k}``.
        collect_device: ``'cpu'`` or ``'gpu'`` (mmengine).
        prefix: optional key prefix (``'prefix/accuracy/top1'``); none by default.
        collect_dir: see mmengine's ``BaseMetric``.
    """

    default_prefix: Optional[str] = ''  # no prefix, and no "prefix is not set" warning

    def __init__(self,
                 topk: Union[int, Sequence[int]] = (1, ),
                 clean_metrics: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        ranks = [topk] if isinstance(topk, int) else list(topk)
        if not ranks or any(not isinstance(k, int) or k < 1 for k in ranks):
            raise ValueError(f'topk must be positive integers, got {topk!r}')
        self.topk = tuple(sorted(set(ranks) | {1}))
        self.clean_metrics = bool(clean_metrics)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Reduce each sample to the label's rank (clean, rotated) and the KL."""
        for sample in data_samples:
            missing = [key for key in ('gt_label', 'pred_score', fields.ROTATED_PRED_SCORE)
                       if key not in sample]
            if missing:
                raise ValueError(
                    f'RotatedAccuracy got a data sample without {missing}; it needs class '
                    "scores ('pred_score') and the rotated scores written by "
                    "mmsofteq.RotatedValLoop / RotatedTestLoop (set val_cfg/test_cfg="
                    "dict(type='mmsofteq.RotatedValLoop' / 'mmsofteq.RotatedTestLoop'))")
            clean_scores = sample['pred_score']
            rotated_scores = sample[fields.ROTATED_PRED_SCORE]
            check_probability_vector(clean_scores, 'pred_score')
            check_probability_vector(rotated_scores, fields.ROTATED_PRED_SCORE)
            label = torch.as_tensor(sample['gt_label']).reshape(-1)
            if label.numel() != 1:
                raise ValueError(f'RotatedAccuracy needs one label per sample, got {label}')
            check_labels(label, clean_scores.numel(), None, sample)
            label = int(label)
            record = dict(index=sample.get(fields.DATASET_INDEX),
                          clean_rank=_rank_of(clean_scores, label),
                          rotated_rank=_rank_of(rotated_scores, label),
                          kl=kl_divergence_of_probabilities(clean_scores, rotated_scores))
            if fields.WORST_CASE_PRED_SCORE in sample:
                record['worst_rank'] = max(_rank_of(scores, label)
                                           for scores in sample[fields.WORST_CASE_PRED_SCORE])
            self.results.append(record)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        count = len(results)

        def accuracy(key: str, k: int) -> float:
            return 100 * sum(r[key] < k for r in results) / count

        metrics = OrderedDict()
        if self.clean_metrics:
            metrics.update((f'accuracy/top{k}', accuracy('clean_rank', k)) for k in self.topk)
        metrics.update((f'rotated_accuracy/top{k}', accuracy('rotated_rank', k))
                       for k in self.topk)
        metrics['cAcc'] = geometric_mean(accuracy('clean_rank', 1),
                                         metrics['rotated_accuracy/top1'])
        metrics['iErr'] = 100 * exact_mean([r['kl'] for r in results])
        worst = [r for r in results if 'worst_rank' in r]
        if worst:
            if len(worst) != count:
                raise ValueError(f'{len(worst)} of {count} samples carry worst-case scores; '
                                 'run every sample with the same worst_of')
            metrics['wAcc'] = accuracy('worst_rank', 1)
        return dict(metrics)


def _rank_of(scores: torch.Tensor, label: int) -> int:
    """Position of ``label`` when classes are sorted by descending score, ties broken by
    the lower class index (as ``torch.argmax``): rank 0 means ``argmax == label``."""
    scores = scores.reshape(-1)
    higher = int((scores > scores[label]).sum())
    tied_before = int((scores[:label] == scores[label]).sum())
    return higher + tied_before
