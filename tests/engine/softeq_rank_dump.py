"""A test-only hook: every rank saves its parameters after the run (mmengine saves rank 0 only).

Imported by distributed test configs through ``custom_imports``; registered in mmengine's root
HOOKS registry so any default scope finds it.
"""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class RankParameterDumpHook(Hook):
    """Save ``{name: θ}`` of ``runner.model`` to ``work_dir/params_rank<r>.pth`` after the run
    and, before training, ``work_dir/params_init_rank<r>.pth``."""

    priority = 'VERY_LOW'

    @staticmethod
    def _dump(runner, tag: str) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        params = {name: param.detach().cpu().clone() for name, param in model.named_parameters()}
        torch.save(dict(params=params, wrapped=type(runner.model).__name__),
                   osp.join(runner.work_dir, f'params_{tag}rank{get_rank()}.pth'))

    def before_train(self, runner) -> None:
        self._dump(runner, 'init_')

    def after_run(self, runner) -> None:
        self._dump(runner, '')
