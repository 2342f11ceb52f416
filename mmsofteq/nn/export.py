"""End the re-parameterisation: a plain model whose Parameters hold ``P·θ``.

``export_model(model)`` is the exit of ``inject_soft_equivariance`` (escnn's ``export()``,
mmrazor's ``to_static_op()``): for every projected parameter it writes the effective tensor
``W_eff = P·θ`` (computed by the same code as ``forward``) into the Parameter itself, drops the
projector buffer and restores the module's base class, so the model is again made of plain
torch / mmcv / mmseg / mmpretrain classes, with the same Parameter objects under the same
state-dict keys, and runs at the base model's cost. Its outputs equal the injected model's
(bit for bit in float32 on CPU; tested).
"""
from __future__ import annotations

import torch
from torch import nn

from .checkpoint_guard import remove_declaration
from .reparam import (BUFFER_PREFIX, _remove_hooks as remove_hooks, is_swapped,
                      projected_parameters, unswap_class)


@torch.no_grad()
def export_model(model: nn.Module) -> nn.Module:
    """Write ``P·θ`` into every projected Parameter of ``model`` and un-swap its classes.

    Args:
        model: a model injected with :func:`~mmsofteq.nn.inject_soft_equivariance` (the
            wrapper or hook form), or any model (then only swapped classes are restored).

    Returns:
        ``model`` itself, modified in place: no module is swapped afterwards and the
        soft-equivariance config/report are removed from it.
    """
    effective = [(module, name, getattr(module, name).detach().clone())
                 for _, module, name in projected_parameters(model)]
    for module, name, tensor in effective:
        module._parameters[name].copy_(tensor)
        del module._buffers[BUFFER_PREFIX + name]
        projections = dict(module.__dict__['_softeq_projections'])
        del projections[name]
        module.__dict__['_softeq_projections'] = projections
    for module in model.modules():
        if is_swapped(module):
            remove_hooks(module)
            for key in ('_softeq_projections', '_softeq_cache', '_softeq_shapes'):
                module.__dict__.pop(key, None)
            unswap_class(module)
    for key in ('_softeq_config', '_softeq_report'):
        model.__dict__.pop(key, None)
    remove_declaration(model)
    return model
