"""``mmsofteq.SoftEqHook``: soft equivariance from the hooks, leaving ``model`` as is.

::

    default_hooks = dict(softeq=dict(type='mmsofteq.SoftEqHook',
                                     softeq=dict(group='C8', softness=0.95)))

``default_hooks`` is a dict that mmengine merges key by key with the base config's, so this
keeps every hook of the base (``EMAHook``, ``PreciseBNHook``, ... in ``custom_hooks``);
``custom_hooks = [dict(type='mmsofteq.SoftEqHook', ...)]`` works too but *replaces* the
base's ``custom_hooks`` list.

When it runs (mmengine 0.10 ``Runner``): the Runner builds the model and wraps it (DDP) in
``__init__``, then ``train()`` calls ``before_run`` hooks, then ``_init_model_weights()``, then
``load_or_resume()`` (``val()``/``test()``: ``before_run`` then ``load_or_resume()``). The hook
injects in ``before_run`` (priority ``VERY_HIGH``, ahead of e.g. ``EMAHook`` copying the model), so
weight init, ``init_cfg=dict(type='Pretrained')``, ``load_from`` and ``--resume`` all write ``θ``
of the already re-parameterised model.

Injecting after DDP wrapping is safe: the projected tensor ``θ`` stays the very Parameter DDP
registered its gradient hooks on (same object, same name), and ``P·θ`` is differentiated back
into it, so gradients are still all-reduced (tested with 2 gloo processes).
The ``softeq`` dict is validated when the hook is built (``Runner.__init__``).
"""
from __future__ import annotations

import logging
import re
from typing import Any, Mapping, Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from ...nn import ProjectionReport, SoftEqConfig, inject_soft_equivariance
from ...registry import HOOKS

#: Hooks that official mmseg / mmpretrain configs list in ``custom_hooks``.
KNOWN_BASE_CUSTOM_HOOKS = ('EMAHook', 'PreciseBNHook', 'SwitchRecipeHook', 'SetAdaptiveMarginsHook')


@HOOKS.register_module()
class SoftEqHook(Hook):
    """Inject soft-equivariance projections into ``runner.model`` before the run starts.

    Args:
        softeq: the soft-equivariance settings (see ``mmsofteq.nn.SoftEqConfig``).

    Attributes:
        report: the ``ProjectionReport`` once injected (``None`` before ``before_run``).
    """

    priority = 'VERY_HIGH'

    def __init__(self, softeq: Mapping[str, Any]) -> None:
        self.config = SoftEqConfig.from_dict(softeq)
        self.report: Optional[ProjectionReport] = None

    def before_run(self, runner) -> None:
        _refuse_sharded(runner.model)
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self.report = inject_soft_equivariance(model, self.config)
        self._warn_about_dropped_base_hooks(runner)

    def _warn_about_dropped_base_hooks(self, runner) -> None:
        """Warn when ``custom_hooks=[SoftEqHook]`` replaced a base config's hooks.

        mmengine replaces a list key of a base config instead of merging it: the text of the
        config and its bases (``cfg.text``) still names, say, ``EMAHook`` while the Runner has
        none. Detected for the hooks that official configs put in ``custom_hooks``.
        """
        cfg = getattr(runner, 'cfg', None)
        custom = cfg.get('custom_hooks', None) if cfg is not None else None
        if not custom or not any(isinstance(hook, dict) and str(hook.get('type', '')).split(
                '.')[-1] == type(self).__name__ for hook in custom):
            return
        text = getattr(cfg, 'text', '') or ''
        running = {type(hook).__name__ for hook in runner.hooks}
        dropped = [name for name in KNOWN_BASE_CUSTOM_HOOKS
                   if re.search(rf"\b{name}\b", text) and name not in running]
        if dropped:
            print_log(f'SoftEqHook: the config text names {dropped} but the run has no such '
                      'hook: custom_hooks=[SoftEqHook] replaced the base config\'s custom_hooks '
                      "list. Use default_hooks=dict(softeq=dict(type='mmsofteq.SoftEqHook', "
                      'softeq=...)) to keep them.', logger='current', level=logging.WARNING)


def _refuse_sharded(model) -> None:
    """The hook injects after the Runner wrapped the model. A sharding wrapper (FSDP) has
    flattened or sharded the parameters by then, so ``W = P·θ`` cannot be set up on them."""
    from torch.distributed.fsdp import FullyShardedDataParallel
    sharded = isinstance(model, FullyShardedDataParallel) or any(
        type(parameter).__name__ == 'DTensor' for parameter in model.parameters())
    if sharded:
        raise RuntimeError(
            f'mmsofteq.SoftEqHook: the model is already sharded ({type(model).__name__}: FSDP '
            'flattens or shards parameters when it wraps the model, and the hook injects after '
            'that). Use the wrapper form, which injects before the strategy wraps: '
            "model=dict(type='mmsofteq.SoftEqModel', model=..., softeq=...) "
            '(docs/scaling.md).')
