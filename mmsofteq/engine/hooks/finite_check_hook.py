"""``mmsofteq.FiniteCheckHook``: stop a run on NaN / Inf weights or loss instead of training on.

A checkpoint that loads but holds NaN (bytes flipped on disk before mmsofteq's CRC check, a
diverged run resumed, a bad conversion) or a loss that turns NaN would otherwise go on for the
whole schedule and write NaN checkpoints over good ones. The hook checks:

* ``after_load_checkpoint``: every floating tensor of the loaded ``state_dict`` and optimizer
  state (``load_from`` and ``--resume``);
* ``before_train`` / ``before_test`` and a standalone ``before_val``: every floating parameter
  and buffer of the model (so ``init_cfg=dict(type='Pretrained')`` weights are covered too);
* ``after_train_iter``: the total loss, every ``interval`` iterations and at the last one;
* before any checkpoint is written: the model's weights at the iterations / epochs where
  mmengine's ``CheckpointHook`` saves and after each validation when it keeps the best
  (``after_train_iter`` / ``after_train_epoch`` / ``after_val_epoch``: this hook's priority
  ``LOW`` runs it ahead of the ``CheckpointHook``'s ``VERY_LOW``, so no previous checkpoint is
  deleted for a non-finite one either), and ``before_save_checkpoint``: the checkpoint's state
  dict and optimizer state, for any other save.

Each failure raises ``FloatingPointError`` naming the tensor (with its count of NaN / Inf
values) or the iteration. Shipped in mmsofteq's configs as
``default_hooks = dict(finite_check=dict(type='mmsofteq.FiniteCheckHook'))``; switch it off with
``--cfg-options default_hooks.finite_check.enabled=False`` (or ``enabled=False`` in the config).
mmengine 0.10.7 rejects ``None`` for a default-hook key it does not know; mmsofteq's tools drop
such keys (``default_hooks.finite_check=None`` works with them), other launchers need
``enabled=False``.
"""
from __future__ import annotations

import math
from typing import Any, Iterator, Optional, Tuple

import torch
from mmengine.hooks import CheckpointHook, Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop

from ...registry import HOOKS

OFF_SWITCH = 'default_hooks.finite_check.enabled=False'
#: Where non-finite weights came from, as the errors say.
LOADED = 'from its initialisation, init_cfg / load_from / --resume'
TRAINED = ('training made them so; no checkpoint was written or removed for them, the last one '
           'is intact; lower the learning rate or enable gradient clipping')


def _floating_tensors(node: Any, prefix: str) -> Iterator[Tuple[str, torch.Tensor]]:
    """``(dotted name, tensor)`` for the floating tensors in nested dicts / lists."""
    if isinstance(node, torch.Tensor):
        if node.is_floating_point() or node.is_complex():
            yield prefix, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _floating_tensors(value, f'{prefix}.{key}' if prefix else str(key))
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            yield from _floating_tensors(value, f'{prefix}.{index}' if prefix else str(index))


def first_non_finite(named_tensors) -> Optional[Tuple[str, int, int]]:
    """``(name, NaN count, Inf count)`` of the first tensor with a non-finite value, or None."""
    for name, tensor in named_tensors:
        finite = torch.isfinite(tensor.detach())
        if not bool(finite.all()):
            values = tensor.detach()
            return name, int(torch.isnan(values).sum()), int(torch.isinf(values).sum())
    return None


@HOOKS.register_module()
class FiniteCheckHook(Hook):
    """Raise ``FloatingPointError`` on non-finite loaded weights or training loss.

    Args:
        enabled: ``False`` switches every check off (the documented off-switch).
        check_weights: check loaded checkpoints and the model before a run.
        check_loss: check the total training loss.
        interval: check the loss every ``interval`` training iterations (and the last).
    """

    # after the hooks that change weights (EMAHook: NORMAL), before CheckpointHook (VERY_LOW)
    priority = 'LOW'

    def __init__(self, enabled: bool = True, check_weights: bool = True,
                 check_loss: bool = True, interval: int = 1) -> None:
        if not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
            raise ValueError(f'FiniteCheckHook: interval must be an int >= 1, got {interval!r}')
        for name, value in (('enabled', enabled), ('check_weights', check_weights),
                            ('check_loss', check_loss)):
            if not isinstance(value, bool):
                raise ValueError(f'FiniteCheckHook: {name} must be True or False, got {value!r}')
        self.check_weights = enabled and check_weights
        self.check_loss = enabled and check_loss
        self.interval = interval

    # ---- weights ----------------------------------------------------------------------
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._check_checkpoint(
            checkpoint, 'the loaded checkpoint holds non-finite values: {bad}. Resume from an '
            'earlier checkpoint, or switch this check off with --cfg-options ' + OFF_SWITCH + '.')

    def _check_checkpoint(self, checkpoint: dict, message: str) -> None:
        """Raise ``FloatingPointError(message.format(bad=...))`` at the first non-finite value
        of the checkpoint's ``state_dict`` or ``optimizer`` state."""
        if not self.check_weights or not isinstance(checkpoint, dict):
            return
        for key in ('state_dict', 'optimizer'):
            bad = first_non_finite(_floating_tensors(checkpoint.get(key), key))
            if bad is not None:
                raise FloatingPointError(message.format(bad=self._describe(bad)))

    def _check_model(self, runner, when: str, cause: str = LOADED) -> None:
        if not self.check_weights:
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        named = ((name, tensor) for name, tensor in
                 list(model.named_parameters()) + list(model.named_buffers())
                 if tensor.is_floating_point() or tensor.is_complex())
        bad = first_non_finite(named)
        if bad is not None:
            raise FloatingPointError(
                f'the model has non-finite weights {when}: {self._describe(bad)} ({cause}). '
                f'Switch this check off with --cfg-options {OFF_SWITCH}.')

    def before_train(self, runner) -> None:
        self._check_model(runner, 'before training')

    def before_val(self, runner) -> None:
        if not isinstance(getattr(runner, '_train_loop', None), BaseLoop):  # standalone val
            self._check_model(runner, 'before validation')

    def before_test(self, runner) -> None:
        self._check_model(runner, 'before testing')

    # ---- before a checkpoint is written ---------------------------------------------------
    @staticmethod
    def _checkpoint_hooks(runner) -> list:
        return [hook for hook in runner.hooks if isinstance(hook, CheckpointHook)]

    def _saves_after_iter(self, runner) -> bool:
        """Whether a ``CheckpointHook`` saves at this iteration (mmengine 0.10.7's rule)."""
        return any(not hook.by_epoch and (
            hook.every_n_train_iters(runner, hook.interval, hook.save_begin) or
            (hook.save_last and hook.is_last_train_iter(runner)))
            for hook in self._checkpoint_hooks(runner))

    def after_train_epoch(self, runner) -> None:
        if any(hook.by_epoch and (hook.every_n_epochs(runner, hook.interval, hook.save_begin) or
                                  (hook.save_last and hook.is_last_train_epoch(runner)))
               for hook in self._checkpoint_hooks(runner)):
            self._check_model(runner, f'after epoch {runner.epoch + 1}, before saving a '
                              'checkpoint', TRAINED)

    def after_val_epoch(self, runner, metrics=None) -> None:
        if isinstance(getattr(runner, '_train_loop', None), BaseLoop) and any(
                hook.save_best is not None for hook in self._checkpoint_hooks(runner)):
            self._check_model(runner, 'after validation, before saving the best checkpoint',
                              TRAINED)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        self._check_checkpoint(
            checkpoint, 'refusing to write a checkpoint with non-finite values: {bad}. Switch '
            'this check off with --cfg-options ' + OFF_SWITCH + '.')

    # ---- loss -------------------------------------------------------------------------
    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None,
                         outputs: Optional[dict] = None) -> None:
        self._check_loss(runner, outputs)
        if self._saves_after_iter(runner):
            self._check_model(runner, f'at iteration {runner.iter + 1}, before saving a '
                              'checkpoint', TRAINED)

    def _check_loss(self, runner, outputs) -> None:
        if not self.check_loss or not isinstance(outputs, dict) or 'loss' not in outputs:
            return
        if not (self.every_n_train_iters(runner, self.interval) or
                self.is_last_train_iter(runner)):
            return  # the last iteration is always checked: its weights are the ones saved
        loss = outputs['loss']
        value = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)
        if not math.isfinite(value):
            terms = ', '.join(f'{name}={float(term):.4g}' for name, term in outputs.items()
                              if name != 'loss' and name.endswith('loss')
                              or 'loss_' in name)
            raise FloatingPointError(
                f'the training loss is {value} at iteration {runner.iter + 1} (epoch '
                f'{runner.epoch + 1}){"; " + terms if terms else ""}. The last checkpoint '
                'written before this iteration is intact; lower the learning rate or enable '
                f'gradient clipping, or switch this check off with --cfg-options {OFF_SWITCH}.')

    @staticmethod
    def _describe(bad: Tuple[str, int, int]) -> str:
        name, nans, infs = bad
        return f'{name} has {nans} NaN and {infs} Inf value(s)'
