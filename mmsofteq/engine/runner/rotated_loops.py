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


@LOOPS.register_module()
class RotatedValLoop(ValLoop):
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
        """Clean ``val_step``, rotated pass, then the evaluator and hooks, per batch."""
        self.runner.call_hook('before_val_iter', batch_idx=idx, data_batch=data_batch)
        rotated_batch = self.rotated_predictions.isolate(data_batch)
        with autocast(enabled=self.fp16):
            outputs = self.runner.model.val_step(data_batch)
        outputs, self.val_loss = _update_losses(outputs, self.val_loss)
        with autocast(enabled=self.fp16):
            self.rotated_predictions(self.runner.model, rotated_batch, outputs)
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook(
            'after_val_iter', batch_idx=idx, data_batch=data_batch, outputs=outputs)


@LOOPS.register_module()
class RotatedTestLoop(TestLoop):
    """``TestLoop`` that also evaluates every sample rotated by its seeded angle.

    Same arguments as :class:`RotatedValLoop`.
    """

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
        """Clean ``test_step``, rotated pass, then the evaluator and hooks, per batch."""
        self.runner.call_hook('before_test_iter', batch_idx=idx, data_batch=data_batch)
        rotated_batch = self.rotated_predictions.isolate(data_batch)
        with autocast(enabled=self.fp16):
            outputs = self.runner.model.test_step(data_batch)
        outputs, self.test_loss = _update_losses(outputs, self.test_loss)
        with autocast(enabled=self.fp16):
            self.rotated_predictions(self.runner.model, rotated_batch, outputs)
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook(
            'after_test_iter', batch_idx=idx, data_batch=data_batch, outputs=outputs)
