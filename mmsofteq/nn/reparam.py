"""Re-parameterise a module's own Parameter as ``W_eff = P·θ`` without renaming or replacing it.

``project_parameter(module, 'weight', KernelProjection((3, 3)), P)`` swaps ``module.__class__`` for
a subclass of its class (:func:`mmsofteq.nn.class_swap.swap_in` with
:class:`SoftEqModuleMixin`) whose ``__getattr__`` answers
``module.weight`` with ``P·θ``, computed on every access from ``θ = module._parameters['weight']``
and the projector ``P`` (a **non-persistent** buffer). ``nn.Module`` looks in ``_parameters``
only through ``__getattr__``, so:

* every ``forward`` that reads ``self.weight`` / ``self.pos_embed`` (torch, mmcv, mmseg,
  mmpretrain code alike) gets ``P·θ``, and autograd carries the gradient back to ``θ``;
* ``state_dict``, ``named_parameters``, optimizers, DDP and EMA see ``θ``, the same Parameter
  object under the same name: checkpoints keep their keys and DDP's gradient hooks (installed
  on ``θ`` when the model was wrapped) keep firing, even if projection is added afterwards;
* nothing is overwritten in place; ``θ`` is what training updates;
* in eval mode without autograd (inference), ``P·θ`` is computed once and reused until ``θ``
  or ``P`` changes or ``train()`` is called, so a model that was not exported runs at the
  base model's cost (``_cached_projection``).

``export_model`` (:mod:`mmsofteq.nn.export`) ends the re-parameterisation: it writes ``P·θ``
into each Parameter and restores the base classes.

Code that must reach ``θ`` itself through attribute access (weight init writing in place, e.g.
``trunc_normal_(self.pos_embed)``) runs inside ``raw_parameters()``; ``init_weights`` of every
module whose class was swapped, including the model root, is wrapped in it automatically.

The swapped class keeps the base class's ``__name__``/``__module__`` (logs and rule look-ups are
unchanged), pickles and deep-copies (:mod:`mmsofteq.nn.class_swap`), and works with
``torch.compile`` (``fullgraph=True`` traces through ``__getattr__``).

**Sharding wrappers, and the guard that no wrapper bypasses ``P·θ`` silently.** Every projected
module carries a forward pre-hook and an (always called) forward hook:

* A wrapper may put the parameter it manages into the module's instance ``__dict__`` during
  forward (FSDP1: the unsharded view of its flat parameter, with or without
  ``use_orig_params``), where normal attribute lookup would find it before ``__getattr__``.
  The pre-hook moves such a tensor aside for the duration of the module's forward, so
  ``__getattr__`` projects it (``θ`` = that tensor; the gradient reaches the wrapper's flat
  parameter through the view), and the hook puts it back afterwards.
* ``θ`` must reach the forward whole: a sharded tensor (a ``DTensor``, or a shape other than
  the one projected) raises ``RuntimeError`` naming the parameter and the supported paths.
  Outside a forward a sharded ``θ`` is returned as it is (a wrapper's bookkeeping reads its
  parameters by attribute: FSDP1 ``use_orig_params``, FSDP2 ``lazy_init``).

FSDP2 (``fully_shard``) keeps the unsharded parameter in ``_parameters`` during forward, so
``__getattr__`` projects it directly. Not covered: a *parent's* forward reading a child's
projected attribute while an FSDP1 view shadows it (the child's hooks did not run); no
mmseg/mmpretrain backbone we rule does that.
"""
from __future__ import annotations

import contextlib
from typing import Any, Dict, Iterator

import torch
from torch import nn

from .class_swap import SwappableMixin, swap_in, swap_out, without_mixin
from .projections import Projection

_raw_depth = 0
#: Instance-dict keys of a projected module: tensors a wrapper set as attributes, moved aside
#: during its forward; how many of its forwards are running; the projected shapes.
_SHADOWED = '_softeq_shadowed'
_FORWARD_DEPTH = '_softeq_forward_depth'
_SHAPES = '_softeq_shapes'
#: What the guard's errors name as the supported ways to train.
SUPPORTED_WRAPPERS = ('a single process, DistributedDataParallel (MMDistributedDataParallel), '
                      'FSDP1 (flat or original parameters) and FSDP2 (fully_shard), each with '
                      'whole parameters inside the projected module\'s forward')

#: Prefix of the projector buffers (``<prefix><parameter name>``), never in a state dict.
BUFFER_PREFIX = 'softeq_projector_'


@contextlib.contextmanager
def raw_parameters() -> Iterator[None]:
    """Inside this context projected attributes return ``θ`` itself instead of ``P·θ``.

    Use it around code that writes parameters in place through attribute access::

        with raw_parameters():
            nn.init.trunc_normal_(backbone.pos_embed, std=0.02)   # writes θ
    """
    global _raw_depth
    _raw_depth += 1
    try:
        yield
    finally:
        _raw_depth -= 1


class SoftEqModuleMixin(SwappableMixin):
    """Behaviour added to a module whose class was swapped (see the module docstring).

    Instance state: ``_softeq_projections = {parameter name: Projection}``; the projector of
    ``name`` is the buffer ``BUFFER_PREFIX + name``.
    """

    @classmethod
    def swapped_namespace(cls, base: type) -> Dict[str, Any]:
        """A base with ``init_weights`` gets one that runs inside ``raw_parameters()``."""
        if callable(getattr(base, 'init_weights', None)):
            return dict(init_weights=_init_weights_with_raw_parameters)
        return {}

    def __getattr__(self, name: str):
        projections = self.__dict__.get('_softeq_projections')
        if projections and not _raw_depth:
            projection = projections.get(name)
            if projection is not None:
                theta = _theta(self, name)
                if theta is not None:
                    if not _is_whole(self, name, theta):
                        return theta  # a wrapper's sharded bookkeeping, outside forward
                    projector = self._buffers[BUFFER_PREFIX + name]
                    if projector.dtype != theta.dtype and theta.is_floating_point():
                        # a wrapper's mixed precision cast θ, not the buffers (FSDP
                        # param_dtype=bf16): P·θ in the projector's precision, then cast
                        return projection(theta.to(projector.dtype), projector).to(theta.dtype)
                    if not _cacheable(self, theta):
                        return projection(theta, projector)
                    return _cached_projection(self, name, projection, theta, projector)
        return super().__getattr__(name)

    def train(self, mode: bool = True):
        self.__dict__.pop('_softeq_cache', None)
        return super().train(mode)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop('_softeq_cache', None)
        return state

    def extra_repr(self) -> str:
        text = super().extra_repr()
        projections = self.__dict__.get('_softeq_projections')
        if projections:
            parts = ', '.join(f'{name}=P·θ ({projection.describe()})'
                              for name, projection in projections.items())
            text = f'{text}, softeq: {parts}' if text else f'softeq: {parts}'
        return text


def _theta(module: nn.Module, name: str):
    """``θ`` of a projected parameter: the tensor a wrapper set as an attribute (moved aside
    by the pre-hook during forward), else the registered Parameter."""
    shadowed = module.__dict__.get(_SHADOWED)
    if shadowed is not None and name in shadowed:
        return shadowed[name]
    return module._parameters.get(name)


def _is_whole(module: nn.Module, name: str, theta: torch.Tensor) -> bool:
    """``θ`` has the shape it had when it was projected and is not a sharded ``DTensor``."""
    if type(theta).__name__ == 'DTensor':
        return False
    shape = module.__dict__.get(_SHAPES, {}).get(name)
    return shape is None or tuple(theta.shape) == shape


def _enter_forward(module: nn.Module, args) -> None:
    """Forward pre-hook of a projected module (module docstring)."""
    projections = module.__dict__.get('_softeq_projections')
    if not projections:
        return
    depth = module.__dict__.get(_FORWARD_DEPTH, 0)
    if depth == 0:
        shadowed = {name: module.__dict__.pop(name) for name in projections
                    if name in module.__dict__}
        if shadowed:
            module.__dict__[_SHADOWED] = shadowed
    module.__dict__[_FORWARD_DEPTH] = depth + 1
    for name in projections:
        theta = _theta(module, name)
        if theta is None or not _is_whole(module, name, theta):
            what = 'missing' if theta is None else (
                'a sharded DTensor' if type(theta).__name__ == 'DTensor' else
                f'of shape {tuple(theta.shape)}, not the projected '
                f'{module.__dict__[_SHAPES][name]}')
            _exit_forward(module, args, None)
            raise RuntimeError(
                f'mmsofteq: {type(module).__name__}.{name} is {what} inside the module\'s '
                'forward, so W = P·θ cannot be applied (a wrapper or strategy shards or '
                f'replaces the parameter). Supported: {SUPPORTED_WRAPPERS}. Otherwise export '
                'the model first (mmsofteq.nn.export_model / tools/export_checkpoint.py) and '
                'train or run the plain model (docs/scaling.md).')


def _exit_forward(module: nn.Module, args, output) -> None:
    """Forward hook (always called) of a projected module: undo :func:`_enter_forward`."""
    depth = module.__dict__.get(_FORWARD_DEPTH, 0) - 1
    if depth > 0:
        module.__dict__[_FORWARD_DEPTH] = depth
        return
    module.__dict__.pop(_FORWARD_DEPTH, None)
    for name, tensor in module.__dict__.pop(_SHADOWED, {}).items():
        if name not in module.__dict__:
            module.__dict__[name] = tensor


def _remove_hooks(module: nn.Module) -> None:
    """Drop the two hooks of :func:`project_parameter` (``export_model``)."""
    for hooks, function in ((module._forward_pre_hooks, _enter_forward),
                            (module._forward_hooks, _exit_forward)):
        for key in [key for key, hook in hooks.items() if hook is function]:
            del hooks[key]
            module._forward_hooks_always_called.pop(key, None)


def _cacheable(module: nn.Module, theta: torch.Tensor) -> bool:
    """Eval-mode inference that builds no graph: ``P·θ`` may be reused between forwards.

    Not while compiling (dynamo traces the plain product), under autocast (the product's
    dtype depends on it), or when autograd would record the product (a cached graph node
    cannot be back-propagated twice).
    """
    if module.training or torch.compiler.is_compiling():
        return False
    if torch.is_grad_enabled() and theta.requires_grad:
        return False
    return not (torch.is_autocast_enabled('cpu') or torch.is_autocast_enabled('cuda'))


def _cached_projection(module: nn.Module, name: str, projection: Projection,
                       theta: torch.Tensor, projector: torch.Tensor) -> torch.Tensor:
    """``projection(θ, P)`` computed once and reused while ``θ`` and ``P`` are unchanged.

    The key holds the storage address and version counter of ``θ`` and ``P``: an in-place
    update (optimizer step, ``load_state_dict``, ``copy_``) bumps the version, ``.to()`` and
    ``.data =`` change the address, so a stale product is never returned. ``train()`` drops
    the cache (see ``SoftEqModuleMixin.train``).
    """
    key = (theta.data_ptr(), theta._version, theta.dtype, theta.device,
           projector.data_ptr(), projector._version)
    cache = module.__dict__.setdefault('_softeq_cache', {})
    entry = cache.get(name)
    if entry is None or entry[0] != key:
        with torch.no_grad():
            entry = (key, projection(theta, projector))
        cache[name] = entry
    return entry[1]


def _init_weights_with_raw_parameters(self, *args, **kwargs):
    """``init_weights`` of the class below the mixin, run inside ``raw_parameters()`` so it
    writes ``θ``."""
    with raw_parameters():
        return super(SoftEqModuleMixin, self).init_weights(*args, **kwargs)


def is_swapped(module: nn.Module) -> bool:
    """``module``'s class was swapped by :func:`project_parameter` or :func:`swap_class`."""
    return isinstance(module, SoftEqModuleMixin)


def swap_class(module: nn.Module) -> nn.Module:
    """Swap ``module``'s class in place (idempotent): ``init_weights`` then writes ``θ``."""
    return swap_in(module, SoftEqModuleMixin)


def unswap_class(module: nn.Module) -> nn.Module:
    """Undo :func:`swap_class` (other swaps, e.g. a wrapper's, stay)."""
    return swap_out(module, SoftEqModuleMixin)


def project_parameter(module: nn.Module, name: str, projection: Projection,
                      projector: torch.Tensor) -> None:
    """Make ``getattr(module, name)`` return ``projection(θ, projector)``.

    Args:
        module: owner of the Parameter ``name`` (it stays the same object, same name).
        name: a key of ``module._parameters``.
        projection: how ``P`` acts on ``θ`` (:mod:`mmsofteq.nn.projections`):
            ``KernelProjection(grid)``, ``GridProjection(grid, prefix_tokens)`` or
            ``OffsetGridProjection(grid, extra_rows)``.
        projector: ``P`` as a tensor; stored (as given) in the non-persistent buffer
            ``BUFFER_PREFIX + name``, so ``.to()``/``.half()`` move it with the module.
    """
    theta = module._parameters.get(name)
    if theta is None:
        raise ValueError(f'{type(module).__name__} has no parameter {name!r}')
    if name in module.__dict__.get('_softeq_projections', {}):
        raise ValueError(f'parameter {name!r} of {type(module).__name__} is already projected')
    if hasattr(without_mixin(type(module), SoftEqModuleMixin), name) or name in module.__dict__:
        # A class attribute (e.g. a property) or instance attribute would be found before
        # __getattr__ and silently bypass the projection.
        raise ValueError(f'{type(module).__name__}.{name} is shadowed by a class or instance '
                         'attribute; it cannot be re-parameterised through __getattr__')
    swap_class(module)
    module.register_buffer(BUFFER_PREFIX + name, projector, persistent=False)
    projections = dict(module.__dict__.get('_softeq_projections', {}))
    if not projections:
        module.register_forward_pre_hook(_enter_forward)
        module.register_forward_hook(_exit_forward, always_call=True)
    projections[name] = projection
    module.__dict__['_softeq_projections'] = projections
    module.__dict__[_SHAPES] = dict(module.__dict__.get(_SHAPES, {}), **{name: tuple(theta.shape)})


def projected_parameters(model: nn.Module) -> Iterator[tuple[str, nn.Module, str]]:
    """``(state-dict key, owning module, parameter name)`` of every projected parameter."""
    for prefix, module in model.named_modules():
        for name in module.__dict__.get('_softeq_projections', {}):
            yield (f'{prefix}.{name}' if prefix else name), module, name
