"""Evaluation loops that add a rotated forward pass to mmengine's ``ValLoop``/``TestLoop``.

Per batch: the plain ``model.val_step``/``test_step`` (exactly as mmengine), then one
rotated pass (:class:`RotatedPredictionWriter`) whose results are written into the same
outputs before the evaluator sees them. Cost: one extra preprocessing and forward per sample,
plus rotations of the inputs and (segmentation) of the clean logits.

The config's own evaluator is kept: mmseg's ``IoUMetric`` / mmpretrain's ``Accuracy`` report
their usual keys (``mIoU``, ``accuracy/top1``, ...), and the loop adds the matching rotated
metric (``mmsofteq.RotatedIoUMetric`` / ``RotatedAccuracy`` with ``clean_metrics=False``:
``aIoU``, ``cIoU``, ``eErr``, ... / ``rotated_accuracy/top1``, ``cAcc``, ``iErr``) unless the
evaluator already has one (``rotated_metric`` below). So a config gets rotated evaluation
from one line, and ``save_best`` on any key works::

    val_cfg = dict(type='mmsofteq.RotatedValLoop')      # U(-30°, 30°), seed 0
    test_cfg = dict(type='mmsofteq.RotatedTestLoop', angles=dict(kind='cyclic', order=4))

The dataloader's dataset is wrapped in :class:`IndexedDataset` so each sample carries its
dataset index, which (with ``seed``) fixes its angle for any number of ranks.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.evaluator import Evaluator
from mmengine.logging import HistoryBuffer
from mmengine.runner import TestLoop, ValLoop
from mmengine.runner.amp import autocast
from mmengine.structures import BaseDataElement
from torch.utils.data import DataLoader

from ...evaluation import RotatedAccuracy, RotatedIoUMetric
from ...registry import LOOPS, METRICS
from .indexed_dataset import with_dataset_index
from .rotated_pass import RotatedPredictionWriter

ROTATED_METRICS = (RotatedIoUMetric, RotatedAccuracy)


def _clean_metric_classes() -> tuple[tuple[type, str], ...]:
    """``(mmseg IoUMetric, 'RotatedIoUMetric'), (mmpretrain Accuracy, 'RotatedAccuracy')``."""
    pairs = []
    try:
        from mmseg.evaluation import IoUMetric
        pairs.append((IoUMetric, 'RotatedIoUMetric'))
    except ImportError:  # pragma: no cover - mmseg is a dependency
        pass
    try:
        from mmpretrain.evaluation import Accuracy
        pairs.append((Accuracy, 'RotatedAccuracy'))
    except ImportError:  # pragma: no cover - mmpretrain is a dependency
        pass
    return tuple(pairs)


def rotated_metric_config(metrics: Sequence, rotated_metric: Union[str, dict, None]
                          ) -> Optional[dict]:
    """The config of the rotated metric to add next to ``metrics`` (``None``: none to add).

    ``'auto'``: none when a rotated metric is already there; ``RotatedIoUMetric`` (same
    ``ignore_index``/``nan_to_num``) next to mmseg's ``IoUMetric``; ``RotatedAccuracy``
    (same ``topk``) next to mmpretrain's ``Accuracy``; both without the clean keys. A dict
    is used as given (``clean_metrics`` defaults to ``False`` when a clean metric is there).

    Raises:
        ValueError: ``'auto'`` finds neither kind of metric, or an unknown value.
    """
    if rotated_metric is None or any(isinstance(m, ROTATED_METRICS) for m in metrics):
        return None
    clean = [(metric, name) for metric in metrics for cls, name in _clean_metric_classes()
             if isinstance(metric, cls)]
    if isinstance(rotated_metric, dict):
        config = dict(rotated_metric)
        config.setdefault('clean_metrics', not clean)
        return config
    if rotated_metric != 'auto':
        raise ValueError(f"rotated_metric must be 'auto', a metric config dict or None, got "
                         f'{rotated_metric!r}')
    if not clean:
        raise ValueError(
            'mmsofteq rotated evaluation: the evaluator has no metric it can pair a rotated one '
            f'with ({[type(m).__name__ for m in metrics]}); use mmseg\'s IoUMetric or '
            "mmpretrain's Accuracy, or set val_evaluator=dict(type='mmsofteq.RotatedIoUMetric' "
            "| 'mmsofteq.RotatedAccuracy'), or rotated_metric=dict(type=...) on the loop")
    metric, name = clean[0]
    if name == 'RotatedIoUMetric':
        return dict(type=f'mmsofteq.{name}', ignore_index=metric.ignore_index,
                    nan_to_num=metric.nan_to_num, clean_metrics=False)
    return dict(type=f'mmsofteq.{name}', topk=tuple(metric.topk), clean_metrics=False)


def split_losses(outputs: list, losses: Dict[str, HistoryBuffer]) -> list:
    """Move a trailing loss element of ``outputs`` into ``losses``; return the predictions.

    mmengine's ``ValLoop``/``TestLoop`` do the same (with a private helper): a model whose
    ``val_step``/``test_step`` also computes losses appends one ``BaseDataElement`` holding
    only ``loss`` (a dict of tensors or lists of tensors); each value is recorded in
    ``losses[name]`` (a ``HistoryBuffer``), which the loop reports as ``val/<name>`` after
    the epoch.
    """
    if not (outputs and isinstance(outputs[-1], BaseDataElement)
            and outputs[-1].keys() == ['loss']):
        return outputs
    for name, value in outputs[-1].loss.items():
        buffer = losses.setdefault(name, HistoryBuffer())
        for item in (value if isinstance(value, (list, tuple)) else [value]):
            buffer.update(item.item() if isinstance(item, torch.Tensor) else float(item))
    return outputs[:-1]


class _RotatedPassMixin:
    """The shared body of both loops; ``_stage`` is ``'val'`` or ``'test'`` (hook names,
    ``model.<stage>_step`` and the loop's ``<stage>_loss`` accumulator)."""

    _stage: str

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 fp16: bool = False,
                 angles: Optional[dict] = None,
                 task: str = 'auto',
                 ignore_index: int = 255,
                 rotated_metric: Union[str, dict, None] = 'auto',
                 worst_of: Optional[int] = None) -> None:
        self.rotated_predictions = RotatedPredictionWriter(angles, task, ignore_index,
                                                           worst_of)
        super().__init__(runner, with_dataset_index(dataloader), evaluator, fp16)
        config = rotated_metric_config(self.evaluator.metrics, rotated_metric)
        if config is not None:
            metric = METRICS.build(config)
            metric.dataset_meta = self.evaluator.dataset_meta
            self.evaluator.metrics.append(metric)

    @torch.no_grad()
    def run_iter(self, idx: int, data_batch: Sequence[dict]) -> None:
        """Clean ``<stage>_step``, rotated pass, then the evaluator and hooks, per batch."""
        stage = self._stage
        self.runner.call_hook(f'before_{stage}_iter', batch_idx=idx, data_batch=data_batch)
        rotated_batch = self.rotated_predictions.isolate(data_batch)
        with autocast(enabled=self.fp16):
            outputs = getattr(self.runner.model, f'{stage}_step')(data_batch)
        outputs = split_losses(outputs, getattr(self, f'{stage}_loss'))
        with autocast(enabled=self.fp16):
            self.rotated_predictions(self.runner.model, rotated_batch, outputs)
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook(
            f'after_{stage}_iter', batch_idx=idx, data_batch=data_batch, outputs=outputs)


@LOOPS.register_module()
class RotatedValLoop(_RotatedPassMixin, ValLoop):
    """``ValLoop`` that also evaluates every sample rotated by its seeded angle.

    Args:
        runner: the mmengine ``Runner``.
        dataloader: dataloader config dict (its dataset gets wrapped to carry indices) or a
            built ``DataLoader`` whose samples carry ``sample_idx`` metainfo.
        evaluator: evaluator config/instance, normally ``mmsofteq.RotatedIoUMetric`` or
            ``mmsofteq.RotatedAccuracy``.
        fp16: run both passes under autocast.
        angles: angle config (see :mod:`mmsofteq.nn.evaluation_angles`); ``None`` means
            its ``DEFAULT_ANGLES``, ``dict(kind='uniform', low=-30.0, high=30.0, seed=0)``.
        task: ``'auto'``, ``'segmentation'`` or ``'classification'``.
        ignore_index: label given to pixels rotated in from outside the view.
        rotated_metric: ``'auto'`` (default), a metric config dict or ``None``: the rotated
            metric added to the evaluator (:func:`rotated_metric_config`).
        worst_of: opt-in ``k >= 2``: each sample is also evaluated at ``k`` seeded angles
            (its angle and the next ``k − 1`` draws of its generator) and the rotated metric
            adds the worst case over them (``wIoU`` / ``wAcc``); ``k − 1`` more forwards.
    """

    _stage = 'val'


@LOOPS.register_module()
class RotatedTestLoop(_RotatedPassMixin, TestLoop):
    """``TestLoop`` that also evaluates every sample rotated by its seeded angle.

    Same arguments as :class:`RotatedValLoop`.
    """

    _stage = 'test'
