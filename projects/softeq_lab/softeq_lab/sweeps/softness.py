"""The softness values of a sweep, and a config with one of them put in place.

A config asks for soft equivariance with the model wrapper or a hook;
:func:`mmsofteq.apis.softeq_of_config` finds where, :func:`with_softness` writes the sweep's
value into that ``softeq`` dict (:func:`mmsofteq.apis.with_softeq`):

* ``kinds=None`` (default): ``softness=s``, a scalar, so every kind (``patch_embed``,
  ``pos_embed``, ``conv``) gets ``s``; a per-kind dict of the config
  (ViT: ``dict(patch_embed=1.0, pos_embed=0.9)``) is replaced as a whole;
* ``kinds=('pos_embed',)``: only the named kinds get ``s``; the others keep the config's value
  (a scalar ``b`` becomes ``dict(default=b, pos_embed=s)``).
"""
from __future__ import annotations

import copy
import math
from typing import Any, Iterable, Optional, Sequence

from mmengine.config import Config

from mmsofteq.apis import HOW_TO_ADD_SOFTEQ as SOFTEQ_FORMS
from mmsofteq.apis import softeq_of_config, with_softeq
from mmsofteq.nn import KINDS, SoftEqConfig

#: How to give a config soft equivariance (shown when it has none).
HOW_TO_ADD_SOFTEQ = (
    "add to the config\n"
    "    custom_imports = dict(imports=['mmsofteq'], allow_failed_imports=False)\n"
    "    softeq = dict(group='SO2', softness=0.95)\n"
    "    model = dict(type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)\n"
    "or leave `model` alone and add\n"
    "    default_hooks = dict(softeq=dict(type='mmsofteq.SoftEqHook', softeq=softeq))\n"
    f"(docs/config_reference.md; the forms: {SOFTEQ_FORMS})")


def check_softness_values(values: Iterable[Any]) -> list[float]:
    """The sweep's softness values as floats, in the given order.

    Raises ``ValueError`` for an empty list, a value that is not a number in ``[0, 1]``
    (NaN included), or a value given twice (``0.5`` and ``0.50`` are the same value).
    """
    values = list(values)
    if not values:
        raise ValueError('give at least one softness value, e.g. --softness 0 0.5 0.9 1')
    checked = []
    for value in values:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f'softness {value!r} is not a number') from None
        if not math.isfinite(number) or not 0.0 <= number <= 1.0:
            raise ValueError(f'softness must be in [0, 1] (0 = strictly equivariant, 1 = the '
                             f'unchanged model), got {value!r}')
        checked.append(number)
    duplicates = sorted({f'{v:g}' for v in checked if checked.count(v) > 1})
    if duplicates:
        raise ValueError(f'softness value(s) {", ".join(duplicates)} given more than once; '
                         'each value is one run')
    return checked


def softness_label(softness: float) -> str:
    """Short exact text of a softness: ``0``, ``0.5``, ``0.95``, ``1`` (``repr`` if needed)."""
    text = f'{softness:g}'
    return text if float(text) == softness else repr(float(softness))


def run_dir_name(softness: float) -> str:
    """Name of a run's work dir inside the sweep's work dir: ``softness_<s>``."""
    return f'softness_{softness_label(softness)}'


def check_kinds(kinds: Optional[Sequence[str]]) -> Optional[tuple[str, ...]]:
    """``None`` (every kind), or the given kinds after checking them against ``KINDS``."""
    if kinds is None:
        return None
    kinds = tuple(kinds)
    unknown = sorted(set(kinds) - set(KINDS))
    if not kinds or unknown:
        raise ValueError(f'unknown softness kind(s) {unknown or list(kinds)}; kinds are '
                         f'{list(KINDS)}')
    return kinds


def swept_softeq(softeq: dict, softness: float,
                 kinds: Optional[Sequence[str]] = None) -> dict:
    """A copy of ``softeq`` with ``softness`` put in place (see the module docstring)."""
    new = copy.deepcopy(dict(softeq))
    if kinds is None:
        new['softness'] = softness
        return new
    old = softeq['softness']
    per_kind = dict(old) if isinstance(old, dict) else {'default': old}
    per_kind.update({kind: softness for kind in kinds})
    new['softness'] = per_kind
    return new


def softeq_location(cfg: Config) -> tuple[dict, str]:
    """``(softeq dict, 'model' | 'hook')`` of ``cfg``; ``ValueError`` saying how to add one."""
    try:
        return softeq_of_config(cfg)
    except ValueError as error:
        raise ValueError(f'{error}.\nA softness sweep needs soft equivariance in the config: '
                         f'{HOW_TO_ADD_SOFTEQ}') from None


def with_softness(cfg: Config, softness: float,
                  kinds: Optional[Sequence[str]] = None) -> Config:
    """A copy of ``cfg`` whose ``softeq`` (wrapper's or hook's) has the given softness.

    A top-level ``softeq`` variable equal to the one in use (configs write
    ``softeq = dict(...)`` and then ``model = dict(..., softeq=softeq)``) is updated too, so
    the dumped config reads the same everywhere. The new ``softeq`` is validated
    (``SoftEqConfig.from_dict``); what depends on the model is checked when it is built.
    """
    softeq, _ = softeq_location(cfg)
    new_softeq = swept_softeq(softeq, softness, kinds)
    SoftEqConfig.from_dict(new_softeq)
    return with_softeq(cfg, new_softeq)
