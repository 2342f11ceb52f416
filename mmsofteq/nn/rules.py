"""Which tensors of which backbone are projected: one rule table, as data.

A ``Rule`` says: inside a backbone of a given type, the parameters whose name (relative to the
backbone) matches ``pattern`` are of ``kind`` and get the projection ``target``:

* ``target='kernel'``: the weight ``θ (O, I, k, k)`` of an ``nn.Conv2d`` or of a deformable
  conv (mmcv ``DeformConv2d`` / ``ModulatedDeformConv2d``), projected per ``(o, i)`` slice,
  ``W_eff[o, i] = P vec(θ[o, i])`` with ``P`` the invariant projector on the ``k x k`` grid.
  Only those weights are candidates for kernel rules (a deformable conv's ``conv_offset``,
  whose outputs are 2-D offsets, is never projected; see ``mmsofteq.nn.structure``).
* ``target='pos_grid'``: a position embedding ``θ (1, L, C)`` whose last ``h·w`` tokens are a
  row-major ``h x w`` grid; ``grid`` says where ``(h, w)`` comes from (an attribute path on
  the backbone, an ``(h, w)`` pair, or a callable ``backbone -> (h, w)``). The
  ``L - h·w`` leading tokens (cls / distillation / register tokens) are left untouched:
  ``pos_eff[:, prefix:] = P θ[:, prefix:]``.
* ``target='offset_grid'``: a relative-position bias table ``θ (L, heads)`` (Swin, BEiT)
  whose first ``(2Wh-1)·(2Ww-1)`` rows are a row-major grid of the 2-D offsets
  ``Δ = p - q`` between tokens of a ``Wh x Ww`` window (row ``(Δrow + Wh - 1)·(2Ww - 1) +
  Δcol + Ww - 1``); ``grid`` gives the window ``(Wh, Ww)``: an attribute path on the module
  that owns the table (``'window_size'``), a pair, or a callable ``owner -> (Wh, Ww)``. The
  trailing ``L - (2Wh-1)(2Ww-1)`` rows (BEiT's cls-token biases) are left untouched:
  ``table_eff[:n] = P θ[:n]``.

``kind`` (``KINDS``: ``'patch_embed'``, ``'pos_embed'``, ``'conv'`` or ``'rel_pos'``) selects
the softness when ``softeq.softness`` is a per-kind dict. The first rule that matches a
parameter wins. A rule must match at least one tensor of the backbone, unless it is
``optional`` (tensors that exist only under some constructor options, such as Swin's
``absolute_pos_embed``).

Backbone types are keys ``'<scope>.<ClassName>'`` (scope = top-level package of the class,
e.g. ``'mmseg'``) or bare ``'<ClassName>'``; a backbone matches the key of the nearest class in
its MRO, so ``mmseg.ResNet`` covers ``ResNetV1c`` and ``ResNetV1d``. Rules from the config
(``softeq.rules``) and from ``register_rules`` take precedence over the built-in table.
``softeq.rules='auto'`` infers rules for a backbone that has none (``mmsofteq.nn.structure``).
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence, Type, Union

from torch import nn

from .projections import PROJECTIONS, Projection

#: Kinds of projected tensors (keys of a per-kind softness dict).
KINDS = ('patch_embed', 'pos_embed', 'conv', 'rel_pos')
#: How a matched tensor is projected (the names of :data:`~mmsofteq.nn.projections.PROJECTIONS`).
TARGETS = tuple(PROJECTIONS)
#: Rule-dict keys accepted from configs.
RULE_KEYS = ('kind', 'pattern', 'target', 'grid', 'optional')
#: The value of ``softeq.rules`` that infers rules for backbones without any.
AUTO = 'auto'

GridSpec = Union[str, tuple, Callable[[nn.Module], tuple]]


@dataclass(frozen=True)
class Rule:
    """One line of the rule table (see the module docstring).

    Attributes:
        kind: one of ``KINDS``.
        pattern: regex searched (``re.search``) in the parameter name relative to the
            backbone; anchor with ``^...$`` for an exact name.
        target: one of ``TARGETS``.
        grid: ``pos_grid``: the grid ``(h, w)`` as an attribute path on the backbone
            (``'patch_resolution'``), a pair, or a callable ``backbone -> (h, w)``;
            ``offset_grid``: the token window ``(Wh, Ww)`` as an attribute path on the module
            owning the table (``'window_size'``), a pair, or a callable ``owner -> (Wh, Ww)``.
        optional: the rule may match nothing (a tensor that only some constructor options
            create); otherwise a rule that matches nothing is an error.
    """

    kind: str
    pattern: str
    target: str = 'kernel'
    grid: Optional[GridSpec] = None
    optional: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f'rule kind must be one of {KINDS}, got {self.kind!r}')
        if self.target not in TARGETS:
            raise ValueError(f'rule target must be one of {TARGETS}, got {self.target!r}')
        if not isinstance(self.pattern, str):
            raise ValueError(f'rule pattern must be a str (regex), got {self.pattern!r}')
        if not isinstance(self.optional, bool):
            raise ValueError(f'rule optional must be True or False, got {self.optional!r}')
        try:
            re.compile(self.pattern)
        except re.error as error:
            raise ValueError(f'rule pattern {self.pattern!r} is not a valid regex: '
                             f'{error}') from None
        if self.projection.rule_grid is not None:
            if self.grid is None:
                raise ValueError(f'a rule with target={self.target!r} needs grid= '
                                 f'({self.projection.rule_grid})')
            if isinstance(self.grid, list):
                object.__setattr__(self, 'grid', tuple(self.grid))
            if isinstance(self.grid, tuple) and not (
                    len(self.grid) == 2 and all(isinstance(v, int) and v > 0 for v in self.grid)):
                raise ValueError(f'rule grid must be (h, w) with positive ints, got {self.grid!r}')
            if not isinstance(self.grid, (str, tuple)) and not callable(self.grid):
                raise ValueError(f'rule grid must be an attribute path, (h, w) or a callable, '
                                 f'got {self.grid!r}')
        elif self.grid is not None:
            raise ValueError(f"rule grid is only used with target='pos_grid' or 'offset_grid', "
                             f'got grid={self.grid!r} with target={self.target!r}')

    @property
    def projection(self) -> Type[Projection]:
        """The projection class ``target`` names (:mod:`mmsofteq.nn.projections`)."""
        return PROJECTIONS[self.target]

    def matches(self, name: str) -> bool:
        return re.search(self.pattern, name) is not None

    def grid_shape(self, module: nn.Module) -> tuple[int, int]:
        """``(h, w)`` of ``grid`` resolved on ``module`` (the backbone for ``pos_grid``, the
        table's owner for ``offset_grid``); an int ``s`` means ``(s, s)``."""
        grid = self.grid
        if callable(grid):
            shape = grid(module)
        elif isinstance(grid, str):
            shape = module
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
                                                     else grid)),
                    **(dict(optional=True) if self.optional else {}))


def _rule(value: Any, where: str) -> Rule:
    if isinstance(value, Rule):
        return value
    if not isinstance(value, Mapping):
        raise ValueError(f'{where}: a rule must be a dict with keys {RULE_KEYS}, got {value!r}')
    unknown = sorted(set(value) - set(RULE_KEYS))
    missing = [key for key in ('kind', 'pattern') if key not in value]
    if unknown or missing:
        hints = [f'{key!r} -> {close[0]!r}' for key in unknown
                 for close in [difflib.get_close_matches(str(key), RULE_KEYS, n=1)] if close]
        hint = f" (did you mean {', '.join(hints)}?)" if hints else ''
        raise ValueError(f'{where}: rule {dict(value)!r} has unknown keys {unknown} / misses '
                         f'{missing}{hint}; a rule is dict(kind=..., pattern=..., target=..., '
                         f'[grid=..., optional=...]) with kind in {KINDS}')
    try:
        return Rule(**value)
    except ValueError as error:
        raise ValueError(f'{where}: {error}') from None


ParsedRules = tuple[tuple[str, tuple[Rule, ...]], ...]


def parse_rules(rules: Union[str, Mapping[str, Sequence[Any]]],
                where: str = 'rules') -> Union[str, ParsedRules]:
    """``{backbone key: [rule dict | Rule, ...]}`` → a hashable tuple form; ``'auto'`` is kept
    as is (rules inferred from structure for backbones without any, see
    ``mmsofteq.nn.structure.auto_rules``)."""
    if isinstance(rules, str):
        if rules == AUTO:
            return AUTO
        raise ValueError(f"{where} must be a dict {{'<scope>.<BackboneType>': [rule, ...]}} or "
                         f"'{AUTO}' (infer the rules of a backbone without any), got {rules!r}")
    if not isinstance(rules, Mapping):
        raise ValueError(f"{where} must be a dict {{'<scope>.<BackboneType>': [rule, ...]}} or "
                         f"'{AUTO}', got {rules!r}")
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


def _mmseg_swin_grid(backbone: nn.Module) -> tuple[int, int]:
    """mmseg ``SwinTransformer`` keeps no grid attribute: ``absolute_pos_embed (1, h·w, C)``
    covers ``pretrain_img_size // patch_size``, taken as square."""
    tokens = backbone._parameters['absolute_pos_embed'].shape[1]
    side = math.isqrt(tokens)
    if side * side != tokens:
        raise ValueError(f'mmseg SwinTransformer: absolute_pos_embed has {tokens} tokens, not a '
                         "square grid; give its grid in softeq.rules={'mmseg.SwinTransformer': "
                         "[..., dict(kind='pos_embed', pattern='^absolute_pos_embed$', "
                         "target='pos_grid', grid=(h, w))]}")
    return side, side


_ANY_CONV_WEIGHT = r'\.weight$'
_REL_POS_TABLE = r'(^|\.)relative_position_bias_table$'


def _cnn(stem: str) -> tuple[Rule, ...]:
    """A CNN: the stem conv(s) matching ``stem`` are ``patch_embed``, every other conv
    ``conv`` (1x1 convs are then left untouched by ``min_kernel_size``)."""
    return Rule('patch_embed', stem), Rule('conv', _ANY_CONV_WEIGHT)


#: ResNet stems: ``conv1`` (V1b) or the deep stem's convs ``stem.{0,3,6}.weight`` (V1c/V1d;
#: mmpretrain wraps them in ConvModules, ``stem.{0,1,2}.conv.weight``).
_RESNET_STEM = r'^(conv1|stem\.\d+(\.conv)?)\.weight$'
#: A ViT-style patch embedding (mmcv / mmseg / mmpretrain ``PatchEmbed``).
_PATCH_EMBED = Rule('patch_embed', r'^patch_embed\.projection\.weight$')
#: Relative-position bias tables of windowed / BEiT attention (``(2M-1)^2 [+ 3], heads``).
_REL_POS = Rule('rel_pos', _REL_POS_TABLE, 'offset_grid', grid='window_size')

#: The built-in table (layers and reference settings: the paper's; families and kinds:
#: docs/config_reference.md, "Which tensors: the rule table"). Kinds: the stem or patch
#: embedding(s) are ``patch_embed`` (in hierarchical backbones the per-stage patch embeddings /
#: downsampling layers too), absolute position grids ``pos_embed``, relative-position tables
#: ``rel_pos``, other convs ``conv``.
BUILTIN_RULES: dict[str, tuple[Rule, ...]] = {
    # SegFormer: overlapping patch embeds (7x7, 3x3) are `patch_embed`; the spatial-reduction
    # convs (8x8, 4x4, 2x2) and the Mix-FFN depthwise 3x3 are `conv`; the Mix-FFN 1x1 convs
    # fall under min_kernel_size and are reported as untouched.
    'mmseg.MixVisionTransformer': (
        Rule('patch_embed', r'^layers\.\d+\.0\.projection\.weight$'),
        Rule('conv', _ANY_CONV_WEIGHT),
    ),
    'mmseg.VisionTransformer': (
        _PATCH_EMBED,
        Rule('pos_embed', r'^pos_embed$', 'pos_grid', grid=_mmseg_vit_grid),
    ),
    # ResNet (and its subclasses: V1c/V1d, ResNeXt, ResNeSt; DCN stages): the stem (`conv1`,
    # or V1c/V1d's deep stem `stem.0/3/6`) is `patch_embed`, every other conv `conv`.
    'mmseg.ResNet': _cnn(_RESNET_STEM),
    # Swin: patch merging is an nn.Unfold + Linear (reported untouched, not a Conv2d).
    'mmseg.SwinTransformer': (
        _PATCH_EMBED,
        Rule('pos_embed', r'^absolute_pos_embed$', 'pos_grid', grid=_mmseg_swin_grid,
             optional=True),  # use_abs_pos_embed=True only
        _REL_POS,
    ),
    # BEiT: no absolute position embedding, a relative-position table per layer (+3 cls rows).
    'mmseg.BEiT': (_PATCH_EMBED, _REL_POS),
    # MAE (a BEiT subclass) adds a learnt absolute pos_embed (cls token + patch grid).
    'mmseg.MAE': (
        _PATCH_EMBED,
        Rule('pos_embed', r'^pos_embed$', 'pos_grid', grid='patch_shape'),
        _REL_POS,
    ),
    'mmseg.MobileNetV2': _cnn(r'^conv1\.conv\.weight$'),
    'mmseg.MobileNetV3': _cnn(r'^layer0\.conv\.weight$'),
    'mmseg.HRNet': _cnn(r'^conv[12]\.weight$'),  # the two stride-2 stem convs
    # Twins PCPVT and SVT (subclass): per-stage patch embeds; the PEG depthwise convs
    # (position_encodings) and the sub-sampling convs (sr) are `conv`.
    'mmseg.PCPVT': _cnn(r'^patch_embeds\.\d+\.projection\.weight$'),
    # SegNeXt: the stem (two 3x3 convs) and the stage patch embeds; the strip convs (1xk,
    # kx1) are reported as non-square.
    'mmseg.MSCAN': _cnn(r'^patch_embed\d+\.proj\.(\d+\.)?weight$'),
    # mmpretrain ViT covers every arch of the zoo incl. 'dinov2-*' and subclasses such as
    # DeiT (two prefix tokens), DeiT3 (none), EVA-02 (its RoPE is a fixed buffer, not
    # projected), MAEViT / MoCoV3ViT (a frozen 2-D sin-cos pos_embed: projected too, P·θ is
    # then a fixed grid): the prefix is len(pos_embed) - h*w.
    'mmpretrain.VisionTransformer': (
        _PATCH_EMBED,
        Rule('pos_embed', r'^pos_embed$', 'pos_grid', grid='patch_resolution'),
    ),
    'mmpretrain.ResNet': _cnn(_RESNET_STEM),
    # BEiT / BEiT v2 / EVA-g (BEiTViT): abs pos_embed only with use_abs_pos_emb=True, tables
    # per layer (use_rel_pos_bias) or shared (use_shared_rel_pos_bias), or none.
    'mmpretrain.BEiTViT': (
        _PATCH_EMBED,
        Rule('pos_embed', r'^pos_embed$', 'pos_grid', grid='patch_resolution', optional=True),
        Rule('rel_pos', _REL_POS_TABLE, 'offset_grid', grid='window_size', optional=True),
    ),
    'mmpretrain.SwinTransformer': (
        _PATCH_EMBED,
        Rule('pos_embed', r'^absolute_pos_embed$', 'pos_grid', grid='patch_resolution',
             optional=True),
        _REL_POS,
    ),
    # ConvNeXt (also mmseg's, type='mmpretrain.ConvNeXt'): the 4x4 stem and the 2x2 stage
    # downsampling convs are `patch_embed`, the 7x7 depthwise convs `conv`.
    'mmpretrain.ConvNeXt': _cnn(r'^downsample_layers\.'),
    'mmpretrain.EfficientNet': _cnn(r'^layers\.0\.conv\.weight$'),
    'mmpretrain.MobileNetV2': _cnn(r'^conv1\.conv\.weight$'),
    'mmpretrain.MobileNetV3': _cnn(r'^layer0\.conv\.weight$'),
    'mmpretrain.HRNet': _cnn(r'^conv[12]\.weight$'),
    # PoolFormer: the 7x7 stem and the 3x3 stage patch embeds (pooling has no weights).
    'mmpretrain.PoolFormer': _cnn(r'^(patch_embed|network\.\d+)\.proj\.weight$'),
    # RepVGG: the stem block's branches (3x3 and 1x1, or the deployed branch_reparam).
    'mmpretrain.RepVGG': _cnn(r'^stem\.'),
    'mmpretrain.PCPVT': _cnn(r'^patch_embeds\.\d+\.projection\.weight$'),
    'mmpretrain.VAN': _cnn(r'^patch_embed\d+\.projection\.weight$'),
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


def class_keys(module: nn.Module) -> list[str]:
    """Every key that names ``module``'s type or a base class (both forms), nearest first."""
    keys = []
    for cls in type(module).__mro__:
        if cls is nn.Module:
            break
        keys.extend(type_keys(cls))
    return keys


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
