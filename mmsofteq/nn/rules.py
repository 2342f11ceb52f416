"""Which tensors of which backbone are projected: one rule table, as data.

A ``Rule`` says: inside a backbone of a given type, the parameters whose name (relative to the
backbone) matches ``pattern`` are of ``kind`` and get the projection ``target``:

* ``target='kernel'``: the weight ``θ (O, I, k, k)`` of an ``nn.Conv2d``, projected per
  ``(o, i)`` slice, ``W_eff[o, i] = P vec(θ[o, i])`` with ``P`` the invariant projector on the
  ``k x k`` grid. Only Conv2d weights are candidates for kernel rules.
* ``target='pos_grid'``: a position embedding ``θ (1, L, C)`` whose last ``h·w`` tokens are a
  row-major ``h x w`` grid; ``grid`` says where ``(h, w)`` comes from (an attribute path on
  the backbone, an ``(h, w)`` pair, or a callable ``backbone -> (h, w)``). The
  ``L - h·w`` leading tokens (cls / distillation / register tokens) are left untouched:
  ``pos_eff[:, prefix:] = P θ[:, prefix:]``.

``kind`` (``'patch_embed'``, ``'pos_embed'`` or ``'conv'``) selects the softness when
``softeq.softness`` is a per-kind dict. The first rule that matches a parameter wins.

Backbone types are keys ``'<scope>.<ClassName>'`` (scope = top-level package of the class,
e.g. ``'mmseg'``) or bare ``'<ClassName>'``; a backbone matches the key of the nearest class in
its MRO, so ``mmseg.ResNet`` covers ``ResNetV1c`` and ``ResNetV1d``. Rules from the config
(``softeq.rules``) and from ``register_rules`` take precedence over the built-in table.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence, Union

from torch import nn

#: Kinds of projected tensors (keys of a per-kind softness dict).
KINDS = ('patch_embed', 'pos_embed', 'conv')
#: How a matched tensor is projected.
TARGETS = ('kernel', 'pos_grid')
#: Rule-dict keys accepted from configs.
RULE_KEYS = ('kind', 'pattern', 'target', 'grid')

GridSpec = Union[str, tuple, Callable[[nn.Module], tuple]]


@dataclass(frozen=True)
class Rule:
    """One line of the rule table (see the module docstring).

    Attributes:
        kind: one of ``KINDS``.
        pattern: regex searched (``re.search``) in the parameter name relative to the
            backbone; anchor with ``^...$`` for an exact name.
        target: one of ``TARGETS``.
        grid: ``pos_grid`` only: attribute path (``'patch_resolution'``), ``(h, w)``, or a
            callable ``backbone -> (h, w)``.
    """

    kind: str
    pattern: str
    target: str = 'kernel'
    grid: Optional[GridSpec] = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f'rule kind must be one of {KINDS}, got {self.kind!r}')
        if self.target not in TARGETS:
            raise ValueError(f'rule target must be one of {TARGETS}, got {self.target!r}')
        if not isinstance(self.pattern, str):
            raise ValueError(f'rule pattern must be a str (regex), got {self.pattern!r}')
        try:
            re.compile(self.pattern)
        except re.error as error:
            raise ValueError(f'rule pattern {self.pattern!r} is not a valid regex: '
                             f'{error}') from None
        if self.target == 'pos_grid':
            if self.grid is None:
                raise ValueError("a rule with target='pos_grid' needs grid= (an attribute path "
                                 "on the backbone such as 'patch_resolution', or (h, w))")
            if isinstance(self.grid, list):
                object.__setattr__(self, 'grid', tuple(self.grid))
            if isinstance(self.grid, tuple) and not (
                    len(self.grid) == 2 and all(isinstance(v, int) and v > 0 for v in self.grid)):
                raise ValueError(f'rule grid must be (h, w) with positive ints, got {self.grid!r}')
            if not isinstance(self.grid, (str, tuple)) and not callable(self.grid):
                raise ValueError(f'rule grid must be an attribute path, (h, w) or a callable, '
                                 f'got {self.grid!r}')
        elif self.grid is not None:
            raise ValueError(f"rule grid is only used with target='pos_grid', got grid="
                             f'{self.grid!r} with target={self.target!r}')

    def matches(self, name: str) -> bool:
        return re.search(self.pattern, name) is not None

    def grid_shape(self, backbone: nn.Module) -> tuple[int, int]:
        """``(h, w)`` of the position grid of ``backbone``."""
        grid = self.grid
        if callable(grid):
            shape = grid(backbone)
        elif isinstance(grid, str):
            shape = backbone
            for attribute in grid.split('.'):
                shape = getattr(shape, attribute)
        else:
            shape = grid
        if isinstance(shape, int):
            shape = (shape, shape)
        shape = tuple(int(v) for v in shape)
        if len(shape) != 2:
            raise ValueError(f'grid of rule {self.pattern!r} gave {shape!r}, expected (h, w)')
        return shape

    def as_dict(self) -> dict:
        grid = self.grid
        if callable(grid):
            grid = getattr(grid, '__qualname__', repr(grid))
        return dict(kind=self.kind, pattern=self.pattern, target=self.target,
                    **({} if grid is None else dict(grid=list(grid) if isinstance(grid, tuple)
                                                     else grid)))


def _rule(value: Any, where: str) -> Rule:
    if isinstance(value, Rule):
        return value
    if not isinstance(value, Mapping):
        raise ValueError(f'{where}: a rule must be a dict with keys {RULE_KEYS}, got {value!r}')
    unknown = sorted(set(value) - set(RULE_KEYS))
    missing = [key for key in ('kind', 'pattern') if key not in value]
    if unknown or missing:
        raise ValueError(f'{where}: rule {dict(value)!r} has unknown keys {unknown} / misses '
                         f'{missing}; a rule is dict(kind=..., pattern=..., target=..., '
                         f'[grid=...])')
    try:
        return Rule(**value)
    except ValueError as error:
        raise ValueError(f'{where}: {error}') from None


def parse_rules(rules: Mapping[str, Sequence[Any]],
                where: str = 'rules') -> tuple[tuple[str, tuple[Rule, ...]], ...]:
    """``{backbone key: [rule dict | Rule, ...]}`` → a hashable tuple form."""
    if not isinstance(rules, Mapping):
        raise ValueError(f"{where} must be a dict {{'<scope>.<BackboneType>': [rule, ...]}}, "
                         f'got {rules!r}')
    parsed = []
    for key, values in rules.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f'{where}: backbone keys must be type names, got {key!r}')
        if isinstance(values, (Mapping, Rule)):
            values = [values]
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(f'{where}[{key!r}] must be a non-empty list of rules, got '
                             f'{values!r}')
        parsed.append((key, tuple(_rule(v, f'{where}[{key!r}]') for v in values)))
    return tuple(parsed)


def _mmseg_vit_grid(backbone: nn.Module) -> tuple[int, int]:
    """mmseg ``VisionTransformer``: ``pos_embed`` covers ``img_size // patch_size``."""
    height, width = backbone.img_size
    return height // backbone.patch_size, width // backbone.patch_size


_ANY_CONV_WEIGHT = r'\.weight$'

#: The built-in table (layers and reference settings: SPEC §3).
BUILTIN_RULES: dict[str, tuple[Rule, ...]] = {
    # SegFormer: overlapping patch embeds (7x7, 3x3) are `patch_embed`; the spatial-reduction
    # convs (8x8, 4x4, 2x2) and the Mix-FFN depthwise 3x3 are `conv`; the Mix-FFN 1x1 convs
    # fall under min_kernel_size and are reported as untouched.
    'mmseg.MixVisionTransformer': (
        Rule('patch_embed', r'^layers\.\d+\.0\.projection\.weight$'),
        Rule('conv', _ANY_CONV_WEIGHT),
    ),
    'mmseg.VisionTransformer': (
        Rule('patch_embed', r'^patch_embed\.projection\.weight$'),
        Rule('pos_embed', r'^pos_embed$', 'pos_grid', grid=_mmseg_vit_grid),
    ),
    'mmseg.ResNet': (Rule('conv', _ANY_CONV_WEIGHT), ),
    # mmpretrain ViT covers every arch of the zoo incl. 'dinov2-*' and subclasses such as
    # DeiT (two prefix tokens): the prefix is len(pos_embed) - h*w.
    'mmpretrain.VisionTransformer': (
        Rule('patch_embed', r'^patch_embed\.projection\.weight$'),
        Rule('pos_embed', r'^pos_embed$', 'pos_grid', grid='patch_resolution'),
    ),
    'mmpretrain.ResNet': (Rule('conv', _ANY_CONV_WEIGHT), ),
}

_REGISTERED_RULES: dict[str, tuple[Rule, ...]] = {}


def register_rules(backbone: str, rules: Sequence[Union[Rule, Mapping[str, Any]]]) -> None:
    """Add (or replace) the rules of a backbone type for this process.

    Example::

        register_rules('mypkg.MyBackbone', [dict(kind='conv', pattern=r'\\.weight$')])
    """
    ((key, parsed), ) = parse_rules({backbone: rules}, 'register_rules')
    _REGISTERED_RULES[key] = parsed


def type_keys(cls: type) -> tuple[str, str]:
    """``('<scope>.<Name>', '<Name>')`` of a class (scope = its top-level package)."""
    return f"{cls.__module__.split('.')[0]}.{cls.__name__}", cls.__name__


RuleTable = Sequence[tuple[str, tuple[Rule, ...]]]


def rules_for(module: nn.Module, extra: RuleTable = ()) -> Optional[tuple[str, tuple[Rule, ...]]]:
    """``(matched key, rules)`` for ``module``'s type, or ``None`` when it has no rule.

    Walks the MRO from the most specific class; at each class the config's rules (``extra``)
    win over ``register_rules`` which win over ``BUILTIN_RULES``.
    """
    tables = (dict(extra), _REGISTERED_RULES, BUILTIN_RULES)
    for cls in type(module).__mro__:
        if cls is nn.Module:
            break
        for table in tables:
            for key in type_keys(cls):
                if key in table:
                    return key, table[key]
    return None


def known_backbones(extra: RuleTable = ()) -> list[str]:
    return sorted(set(dict(extra)) | set(_REGISTERED_RULES) | set(BUILTIN_RULES))
