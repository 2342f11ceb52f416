"""Swap a module's class in place for a subclass that adds one mixin.

``swap_in(module, Mixin)`` sets ``module.__class__`` to ``swapped_class(Mixin, type(module))``,
the class ``(Mixin, Base)`` created once per pair with ``Base``'s ``__name__``,
``__qualname__``, ``__module__`` and ``__doc__``: the module keeps its attributes, Parameters,
state-dict keys, ``isinstance`` relations and the name logs and rule look-ups see; the mixin
overrides the few methods it changes and reaches the base behaviour through ``super()``.

Users: the re-parameterised modules of :mod:`mmsofteq.nn.reparam` (``W = P·θ``) and the
wrapper models of :mod:`mmsofteq.models.wrapping`. Swaps stack (an injected model may be
wrapped, a wrapped one injected): each swapped class records its ``mixin`` and the ``base``
it was made from, and :func:`swap_out` removes one mixin wherever it sits in the stack.

A swapped class is not importable under its name, so every mixin derives from
:class:`SwappableMixin`, whose ``__reduce_ex__`` pickles and deep-copies an instance as its
importable root class plus its mixins (``torch.save``, EMA's ``deepcopy``).
"""
from __future__ import annotations

from typing import Any, Dict, Tuple

from torch import nn

_SWAPPED_CLASSES: Dict[Tuple[type, type], type] = {}


class SwappableMixin:
    """Base of every mixin given to :func:`swap_in`: pickling and deep copy of the instance."""

    @classmethod
    def swapped_namespace(cls, base: type) -> Dict[str, Any]:
        """Extra class attributes of ``swapped_class(cls, base)``, chosen from ``base``
        (none by default)."""
        return {}

    def __reduce_ex__(self, protocol):
        root, mixins = class_stack(type(self))
        return _new_swapped_module, (root, mixins), self.__getstate__()


def class_stack(cls: type) -> Tuple[type, Tuple[type, ...]]:
    """``(root class, mixins)`` of ``cls``, the mixins in the order they were swapped in
    (``(cls, ())`` for a class that is not swapped)."""
    mixins = []
    while '_swap_mixin' in cls.__dict__:
        mixins.append(cls.__dict__['_swap_mixin'])
        cls = cls.__dict__['_swap_base']
    return cls, tuple(reversed(mixins))


def swapped_class(mixin: type, base: type) -> type:
    """The class ``(mixin, base)`` named like ``base`` (created once per pair, then cached)."""
    cls = _SWAPPED_CLASSES.get((mixin, base))
    if cls is None:
        namespace = dict(__module__=base.__module__, __qualname__=base.__qualname__,
                         __doc__=base.__doc__, _swap_base=base, _swap_mixin=mixin)
        namespace.update(mixin.swapped_namespace(base))
        cls = type(base.__name__, (mixin, base), namespace)
        _SWAPPED_CLASSES[(mixin, base)] = cls
    return cls


def stacked_class(root: type, mixins: Tuple[type, ...]) -> type:
    """``root`` with ``mixins`` swapped in, in that order."""
    cls = root
    for mixin in mixins:
        cls = swapped_class(mixin, cls)
    return cls


def without_mixin(cls: type, mixin: type) -> type:
    """``cls`` with ``mixin`` taken out of its stack (``cls`` itself when ``mixin`` is not in)."""
    root, mixins = class_stack(cls)
    return stacked_class(root, tuple(other for other in mixins if other is not mixin))


def swap_in(module: nn.Module, mixin: type) -> nn.Module:
    """Swap ``module``'s class for ``swapped_class(mixin, type(module))`` in place (a no-op
    when ``module`` already is a ``mixin``); returns ``module``."""
    if not isinstance(module, mixin):
        module.__class__ = swapped_class(mixin, type(module))
    return module


def swap_out(module: nn.Module, mixin: type) -> nn.Module:
    """Undo :func:`swap_in` of ``mixin`` in place (other mixins stay); returns ``module``."""
    module.__class__ = without_mixin(type(module), mixin)
    return module


def _new_swapped_module(root: type, mixins: Tuple[type, ...]) -> nn.Module:
    """Unpickling / deep-copy constructor (state is restored by ``nn.Module.__setstate__``)."""
    return object.__new__(stacked_class(root, mixins))
