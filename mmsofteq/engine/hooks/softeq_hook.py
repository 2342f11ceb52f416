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

from typing import Any, Mapping, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ...nn import ProjectionReport, SoftEqConfig, inject_soft_equivariance
from ...registry import HOOKS


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
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self.report = inject_soft_equivariance(model, self.config)
