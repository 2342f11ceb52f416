"""Re-parameterise a module's own Parameter as ``W_eff = P·θ`` without renaming or replacing it.

``project_parameter(module, 'weight', KernelProjection(), P)`` swaps ``module.__class__`` for
a subclass of its class (created once per class) whose ``__getattr__`` answers
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
unchanged), pickles and deep-copies through ``__reduce_ex__``, and works with
``torch.compile`` (``fullgraph=True`` traces through ``__getattr__``).
"""
from __future__ import annotations

import contextlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Iterator, Union

import torch
from torch import nn

_PROJECTED_CLASSES: dict[type, type] = {}
_raw_depth = 0

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


@dataclass(frozen=True)
class KernelProjection:
    """Conv kernel ``θ (O, I, k, k)``: ``W_eff[o, i] = P vec(θ[o, i])`` (``P`` is ``k² x k²``,
    symmetric, acting on the row-major flattened ``k x k`` slice)."""

    def __call__(self, theta: torch.Tensor, projector: torch.Tensor) -> torch.Tensor:
        return torch.matmul(theta.flatten(2), projector).reshape(theta.shape)

    def fields(self, theta: torch.Tensor) -> torch.Tensor:
        """The ``(O·I, k²)`` slices ``P`` acts on."""
        return theta.flatten(2).reshape(-1, theta.shape[-2] * theta.shape[-1])

    def describe(self) -> str:
        return 'kernel'


@dataclass(frozen=True)
class GridProjection:
    """Position embedding ``θ (1, prefix + h·w, C)``: ``pos_eff[:, prefix:] = P θ[:, prefix:]``
    (``P`` is ``h·w x h·w`` on the row-major grid); the ``prefix`` cls/register tokens are
    returned unchanged."""

    prefix_tokens: int = 0

    def __call__(self, theta: torch.Tensor, projector: torch.Tensor) -> torch.Tensor:
        grid = torch.matmul(projector, theta[:, self.prefix_tokens:])
        if self.prefix_tokens == 0:
            return grid
        return torch.cat((theta[:, :self.prefix_tokens], grid), dim=1)

    def fields(self, theta: torch.Tensor) -> torch.Tensor:
        """The ``(C, h·w)`` grid channels ``P`` acts on."""
        return theta[0, self.prefix_tokens:].T

    def describe(self) -> str:
        return f'grid(prefix={self.prefix_tokens})'


@dataclass(frozen=True)
class OffsetGridProjection:
    """Relative-position bias table ``θ (n + extra, heads)`` whose first ``n = (2Wh-1)(2Ww-1)``
    rows are the row-major grid of token offsets ``Δ = p - q`` (Swin, BEiT: row
    ``(Δrow + Wh - 1)(2Ww - 1) + Δcol + Ww - 1``): ``table_eff[:n] = P θ[:n]`` (``P`` is
    ``n x n`` on that grid); the ``extra_rows`` trailing rows (BEiT's cls-token biases) are
    returned unchanged.

    A rotation of the image by ``R`` moves tokens ``p -> Rp`` and offsets ``Δ -> RΔ``, i.e. it
    rotates the offset grid about its centre cell ``Δ = 0`` exactly as it rotates a position
    grid about its centre, rows being the image's rows: a bias ``B(Δ)`` that is invariant
    under that rotation gives attention logits that permute with the tokens. (A transposed or
    sign-flipped index would give the same invariant subspace: transposes and ``-I`` normalise
    the rotation group.)
    """

    extra_rows: int = 0

    def __call__(self, theta: torch.Tensor, projector: torch.Tensor) -> torch.Tensor:
        if self.extra_rows == 0:
            return torch.matmul(projector, theta)
        rows = theta.shape[0] - self.extra_rows
        return torch.cat((torch.matmul(projector, theta[:rows]), theta[rows:]), dim=0)

    def fields(self, theta: torch.Tensor) -> torch.Tensor:
        """The ``(heads, n)`` offset-grid columns ``P`` acts on."""
        return theta[:theta.shape[0] - self.extra_rows].T

    def describe(self) -> str:
        return f'offset_grid(extra_rows={self.extra_rows})'


Projection = Union[KernelProjection, GridProjection, OffsetGridProjection]


class SoftEqModuleMixin:
    """Behaviour added to a module whose class was swapped (see the module docstring).

    Instance state: ``_softeq_projections = {parameter name: Projection}``; the projector of
    ``name`` is the buffer ``BUFFER_PREFIX + name``.
    """

    def __getattr__(self, name: str):
        projections = self.__dict__.get('_softeq_projections')
        if projections and not _raw_depth:
            projection = projections.get(name)
            if projection is not None:
                theta = self._parameters.get(name)
                if theta is not None:
                    projector = self._buffers[BUFFER_PREFIX + name]
                    if not _cacheable(self, theta):
                        return projection(theta, projector)
                    return _cached_projection(self, name, projection, theta, projector)
        return super().__getattr__(name)

    def train(self, mode: bool = True):
        self.__dict__.pop('_softeq_cache', None)
        return super().train(mode)

    def __reduce_ex__(self, protocol):
        state = {key: value for key, value in self.__dict__.items() if key != '_softeq_cache'}
        return _new_projected_module, (base_class(type(self)), ), state

    def extra_repr(self) -> str:
        text = super().extra_repr()
        projections = self.__dict__.get('_softeq_projections')
        if projections:
            parts = ', '.join(f'{name}=P·θ ({projection.describe()})'
                              for name, projection in projections.items())
            text = f'{text}, softeq: {parts}' if text else f'softeq: {parts}'
        return text


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


def _cached_projection(module: nn.Module, name: str, projection: 'Projection',
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
    """``init_weights`` of the base class, run inside ``raw_parameters()`` so it writes ``θ``."""
    with raw_parameters():
        return base_class(type(self)).init_weights(self, *args, **kwargs)


def base_class(cls: type) -> type:
    """The class ``cls`` was swapped from (``cls`` itself when it is not a swapped class)."""
    return cls.__dict__.get('_softeq_base', cls)


def projected_class(base: type) -> type:
    """The swapped class of ``base`` (created once, then cached)."""
    base = base_class(base)
    cls = _PROJECTED_CLASSES.get(base)
    if cls is None:
        namespace = dict(__module__=base.__module__, __qualname__=base.__qualname__,
                         __doc__=base.__doc__, _softeq_base=base)
        if callable(getattr(base, 'init_weights', None)):
            namespace['init_weights'] = _init_weights_with_raw_parameters
        cls = type(base.__name__, (SoftEqModuleMixin, base), namespace)
        _PROJECTED_CLASSES[base] = cls
    return cls


def _new_projected_module(base: type) -> nn.Module:
    """Unpickling / deep-copy constructor (state is restored by ``nn.Module.__setstate__``)."""
    return object.__new__(projected_class(base))


def is_swapped(module: nn.Module) -> bool:
    return isinstance(module, SoftEqModuleMixin)


def swap_class(module: nn.Module) -> nn.Module:
    """Swap ``module``'s class in place (idempotent): ``init_weights`` then writes ``θ``."""
    if not is_swapped(module):
        module.__class__ = projected_class(type(module))
    return module


def project_parameter(module: nn.Module, name: str, projection: Projection,
                      projector: torch.Tensor) -> None:
    """Make ``getattr(module, name)`` return ``projection(θ, projector)``.

    Args:
        module: owner of the Parameter ``name`` (it stays the same object, same name).
        name: a key of ``module._parameters``.
        projection: ``KernelProjection()``, ``GridProjection(prefix_tokens)`` or
            ``OffsetGridProjection(extra_rows)``.
        projector: ``P`` as a tensor; stored (as given) in the non-persistent buffer
            ``BUFFER_PREFIX + name``, so ``.to()``/``.half()`` move it with the module.
    """
    theta = module._parameters.get(name)
    if theta is None:
        raise ValueError(f'{type(module).__name__} has no parameter {name!r}')
    if name in module.__dict__.get('_softeq_projections', {}):
        raise ValueError(f'parameter {name!r} of {type(module).__name__} is already projected')
    if hasattr(base_class(type(module)), name) or name in module.__dict__:
        # A class attribute (e.g. a property) or instance attribute would be found before
        # __getattr__ and silently bypass the projection.
        raise ValueError(f'{type(module).__name__}.{name} is shadowed by a class or instance '
                         'attribute; it cannot be re-parameterised through __getattr__')
    swap_class(module)
    module.register_buffer(BUFFER_PREFIX + name, projector, persistent=False)
    projections = dict(module.__dict__.get('_softeq_projections', {}))
    projections[name] = projection
    module.__dict__['_softeq_projections'] = projections


def projected_parameters(model: nn.Module) -> Iterator[tuple[str, nn.Module, str]]:
    """``(state-dict key, owning module, parameter name)`` of every projected parameter."""
    for prefix, module in model.named_modules():
        for name in module.__dict__.get('_softeq_projections', {}):
            yield (f'{prefix}.{name}' if prefix else name), module, name


@torch.no_grad()
def effective_state_dict(model: nn.Module) -> 'OrderedDict[str, torch.Tensor]':
    """``model.state_dict()`` with every projected ``θ`` replaced by ``P·θ`` (detached).

    The keys are exactly ``model.state_dict()``'s; the tensors are computed by the same code
    as in ``forward``, so a plain model loading them reproduces the outputs bit for bit.
    """
    state = model.state_dict()
    for key, module, name in projected_parameters(model):
        if key in state:
            state[key] = getattr(module, name).detach().clone()
    return state
