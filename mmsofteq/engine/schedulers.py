"""``mmsofteq.TimmCosineLR``: timm's ``CosineLRScheduler`` as the authors' ImageNet runs used it.

The authors fine-tuned on ImageNet with timm's cosine schedule stepped once per epoch, its
warm-up counted inside the run (``warmup_prefix=False``): for epoch ``t`` (0-based) and the
group's base lr ``η``,

    ``η_t = η · (w + (1 − w) · t / T_w)``                                  for ``t < T_w``,
    ``η_t = η · (m + (1 − m) · (1 + cos(π t / T)) / 2)``                   otherwise,

with ``w = warmup_lr / η`` (``warmup_factor``), ``m = min_lr / η`` (``min_factor``), ``T_w``
warm-up epochs and ``T`` the cosine period (the run's epochs). With ``η = 1e-5``,
``w = m = 0.1``, ``T_w = 4``, ``T = 15`` the epochs get 1.0, 3.25, 5.5, 7.75, 8.51 (peak),
..., 1.10 ×1e-6 (mean 4.39e-6), as the authors' runs did. mmengine's ``LinearLR`` followed by
``CosineAnnealingLR`` restarts the cosine at the end of the warm-up instead (peak 1e-5).
"""
from __future__ import annotations

import math

from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler

from ..registry import PARAM_SCHEDULERS


def timm_cosine_factor(step: int, warmup_steps: int, period: int, warmup_factor: float,
                       min_factor: float) -> float:
    """The multiplier of the base lr at ``step`` (module docstring)."""
    if step < warmup_steps:
        return warmup_factor + (1.0 - warmup_factor) * step / warmup_steps
    return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + math.cos(math.pi * step / period))


@PARAM_SCHEDULERS.register_module()
class TimmCosineLR(LRSchedulerMixin, _ParamScheduler):
    """Closed-form timm cosine with warm-up inside the run (module docstring).

    Args:
        optimizer: the wrapped optimizer.
        warmup_epochs: ``T_w``; ``period``: ``T`` (defaults to ``end - begin``; set it for
            timm's ``t_initial`` when a run stops before the cosine ends).
        warmup_factor, min_factor: ``w`` and ``m``.
        begin, end, last_step, by_epoch, verbose: as mmengine's schedulers, whose signature
            this one keeps so that mmengine builds and resumes it like them (``by_epoch=True``
            without ``convert_to_iter_based``: one step per epoch, as timm's).
    """

    def __init__(self, optimizer, warmup_epochs: int = 4, period: int = None,
                 warmup_factor: float = 0.1, min_factor: float = 0.1, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False):
        if period is None:
            if end == INF:
                raise ValueError('TimmCosineLR needs `period` or a finite `end`')
            period = end - begin
        for name, value in (('warmup_factor', warmup_factor), ('min_factor', min_factor)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f'TimmCosineLR: {name} must be in [0, 1], got {value}')
        if warmup_epochs < 0 or period <= 0:
            raise ValueError(f'TimmCosineLR: warmup_epochs >= 0 and period > 0, got '
                             f'{warmup_epochs} and {period}')
        self.warmup_epochs, self.period = int(warmup_epochs), int(period)
        self.warmup_factor, self.min_factor = float(warmup_factor), float(min_factor)
        super().__init__(optimizer, begin=begin, end=end, last_step=last_step,
                         by_epoch=by_epoch, verbose=verbose)

    def _get_value(self):
        factor = timm_cosine_factor(self.last_step - self.begin, self.warmup_epochs,
                                    self.period, self.warmup_factor, self.min_factor)
        return [base * factor for base in self.base_values]
