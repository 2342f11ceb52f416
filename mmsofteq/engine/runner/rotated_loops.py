"""Evaluation loops that add a rotated forward pass to mmengine's ``ValLoop``/``TestLoop``.

Per batch: the plain ``model.val_step``/``test_step`` (exactly as mmengine), then one
rotated pass (:class:`RotatedPredictionWriter`) whose results are written into the same
outputs before the evaluator sees them, so one metric computes clean and rotated numbers.
Cost: one extra preprocessing and forward per sample, plus rotations of the inputs and
(segmentation) of the clean logits.

Config::

    val_cfg = dict(type='mmsofteq.RotatedValLoop',
                   angles=dict(kind='uniform', low=-30.0, high=30.0, seed=0))
    test_cfg = dict(type='mmsofteq.RotatedTestLoop', angles=dict(kind='cyclic', order=4))

The dataloader's dataset is wrapped in :class:`IndexedDataset` so each sample carries its
dataset index, which (with ``seed``) fixes its angle for any number of ranks.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.evaluator import Evaluator
from mmengine.runner import TestLoop, ValLoop
from mmengine.runner.amp import autocast
from mmengine.runner.loops import _update_losses
from torch.utils.data import DataLoader

from mmsofteq.registry import LOOPS
from .indexed_dataset import with_dataset_index
from .rotated_predictions import RotatedPredictionWriter


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
                 ignore_index: int = 255) -> None:
        self.rotated_predictions = RotatedPredictionWriter(angles, task, ignore_index)
        super().__init__(runner, with_dataset_index(dataloader), evaluator, fp16)

    @torch.no_grad()
    def run_iter(self, idx: int, data_batch: Sequence[dict]) -> None:
        """Clean ``<stage>_step``, rotated pass, then the evaluator and hooks, per batch."""
        stage = self._stage
        self.runner.call_hook(f'before_{stage}_iter', batch_idx=idx, data_batch=data_batch)
        rotated_batch = self.rotated_predictions.isolate(data_batch)
        with autocast(enabled=self.fp16):
            outputs = getattr(self.runner.model, f'{stage}_step')(data_batch)
        outputs, losses = _update_losses(outputs, getattr(self, f'{stage}_loss'))
        setattr(self, f'{stage}_loss', losses)
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
        angles: angle config (see :mod:`mmsofteq.engine.runner.angles`); ``None`` means
            ``dict(kind='uniform', low=-30.0, high=30.0, seed=0)``.
        task: ``'auto'``, ``'segmentation'`` or ``'classification'``.
        ignore_index: label given to pixels rotated in from outside the view.
    """

    _stage = 'val'


@LOOPS.register_module()
class RotatedTestLoop(_RotatedPassMixin, TestLoop):
    """``TestLoop`` that also evaluates every sample rotated by its seeded angle.

    Same arguments as :class:`RotatedValLoop`.
    """

    _stage = 'test'
