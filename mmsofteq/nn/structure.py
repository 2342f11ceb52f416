"""What a backbone's structure says about its spatial tensors, and ``softeq.rules='auto'``.

Pure helpers on built modules (no rule table, no OpenMMLab import):

* kernel modules: ``nn.Conv2d`` (and subclasses) and deformable convs (mmcv ``DeformConv2d`` /
  ``ModulatedDeformConv2d`` and their ``*Pack`` forms, torchvision ``DeformConv2d``; found by
  class name, so mmcv is not imported). Their ``forward`` reads ``self.weight (O, I, kh, kw)``
  by attribute access, so ``P·θ`` reaches a deformable conv exactly as it reaches a Conv2d;
* offset convs: the convs inside a deformable conv (``conv_offset``). Their output channels are
  the 2-D sampling offsets (and modulation masks) per kernel tap, a vector field over the
  taps, not a scalar field: projecting them as scalar kernels would be wrong, so they are
  never projected (reported untouched with ``OFFSET_CONV_REASON``);
* patch merging: a module holding an ``nn.Unfold`` over ``k x k > 1`` windows whose Linear
  mixes the unfolded taps (Swin's ``PatchMerging``): a spatial kernel stored as a Linear
  (after a LayerNorm over the window), reported untouched;
* position grids: ``(1, p + h·h, C)`` parameters with ``0 <= p <= MAX_PREFIX_TOKENS`` leading
  tokens and ``h >= 2``; relative-position tables: 2-D parameters named
  ``relative_position_bias_table``.

``auto_rules(backbone)`` turns these into rules for a backbone without any
(``softeq.rules='auto'``): the first spatial (``k > 1``) kernel in ``named_modules`` order is
``patch_embed``, every other kernel ``conv``, each position grid ``pos_embed`` (its ``(h, h)``
grid), relative-position tables of modules with a ``window_size`` ``rel_pos``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Optional, Sequence

from torch import nn

from .rules import Rule

#: Class names (anywhere in the MRO) of deformable convs.
DEFORMABLE_CONV_TYPES = ('DeformConv2d', 'ModulatedDeformConv2d')
#: Most leading (cls / distillation / register) tokens a position grid may carry.
MAX_PREFIX_TOKENS = 8
#: Name of the relative-position bias tables of Swin / BEiT attention.
REL_POS_TABLE = 'relative_position_bias_table'

#: Spatial tensors that no rule projects, found anywhere in a model and listed as untouched
#: with why: ``(name pattern searched in the full name, minimum dimension, reason)``. Data, so
#: that a new family is one line (the report must never leave a spatial tensor unmentioned).
UNPROJECTED_SPATIAL = (
    (r'(^|\.)rel_pos_[hw]$', 2,
     'decomposed relative-position table (one offset axis per table, as in MViTv2 / SAM): a '
     'quarter turn swaps the two tables, no projection rule'),
    (r'(^|\.)attention_biases$', 2,
     'attention biases indexed by offset pairs (|Δrow|, |Δcol|) (LeViT / TinyViT / '
     'EfficientFormer): no projection rule'),
    (r'(^|\.)complex_weight$', 3,
     'global filter in the Fourier domain (HorNet gnconv-gf): no projection rule'),
    (r'(^|\.)token_mix\..*\.weight$', 2,
     'token-mixing Linear over the patch grid (MLP-Mixer): a grid-to-grid map, not a kernel '
     'or a grid; no projection rule'),
    (r'pos', 4,
     'position grid stored as a 4-D (1, C, H, W) or (1, H, W, C) tensor (ViT-SAM, Vig, TNT '
     'pixel_pos): pos_grid rules project (1, tokens, C) grids only'),
)
OFFSET_CONV_REASON = ('offset/mask conv of a deformable conv ({owner}): its outputs are 2-D '
                      'sampling offsets per kernel tap, not a scalar field; never projected as '
                      'a scalar kernel')


def is_deformable_conv(module: nn.Module) -> bool:
    """A deformable conv with a 4-D ``weight (O, I, kh, kw)`` Parameter."""
    weight = module._parameters.get('weight')
    return (weight is not None and weight.dim() == 4
            and any(cls.__name__ in DEFORMABLE_CONV_TYPES for cls in type(module).__mro__))


def is_kernel_module(module: nn.Module) -> bool:
    """An ``nn.Conv2d`` or deformable conv whose ``weight`` can be projected as a kernel."""
    weight = module._parameters.get('weight')
    if weight is None or weight.dim() != 4:
        return False
    return isinstance(module, nn.Conv2d) or is_deformable_conv(module)


def offset_convs(root: nn.Module) -> dict[int, nn.Module]:
    """``{id(conv): deformable conv owning it}`` for every conv inside a deformable conv."""
    found = {}
    for module in root.modules():
        if is_deformable_conv(module):
            for child in module.modules():
                if child is not module and isinstance(child, nn.Conv2d):
                    found[id(child)] = module
    return found


def unfold_window(module: nn.Module) -> Optional[tuple[int, int]]:
    """``(kh, kw)`` of an ``nn.Unfold`` child with a window larger than 1x1, else ``None``."""
    for child in module.children():
        if isinstance(child, nn.Unfold):
            size = child.kernel_size
            size = (size, size) if isinstance(size, int) else tuple(size)
            if size[0] * size[1] > 1:
                return size
    return None


def token_grid(tokens: int, preferred_prefix: Optional[int] = None) -> Optional[tuple[int, int]]:
    """``(prefix, h)`` with ``tokens = prefix + h·h``, ``h >= 2``, ``prefix <= 8``, or ``None``.

    ``preferred_prefix`` (e.g. the number of cls / distillation tokens) wins when it fits;
    otherwise the smallest prefix does.
    """
    prefixes = range(min(MAX_PREFIX_TOKENS, tokens) + 1)
    if preferred_prefix is not None and preferred_prefix in prefixes:
        prefixes = [preferred_prefix, *prefixes]
    for prefix in prefixes:
        side = math.isqrt(tokens - prefix)
        if side >= 2 and side * side == tokens - prefix:
            return prefix, side
    return None


def _token_slots(backbone: nn.Module) -> int:
    """Leading tokens the backbone concatenates: its ``(1, t, C)`` ``*token*`` parameters
    (mask tokens excluded)."""
    return sum(parameter.shape[1] for name, parameter in backbone.named_parameters()
               if 'token' in name.rsplit('.', 1)[-1] and 'mask' not in name
               and parameter.dim() == 3
               and parameter.shape[0] == 1 and parameter.shape[1] <= MAX_PREFIX_TOKENS)


def position_grid(backbone: nn.Module, name: str) -> Optional[tuple[int, int]]:
    """``(prefix, h)`` if the parameter ``name`` of ``backbone`` is shaped like a position grid
    ``(1, prefix + h·h, C)`` (token parameters such as ``cls_token`` excluded)."""
    parameter = backbone.get_parameter(name)
    if parameter.dim() != 3 or parameter.shape[0] != 1 or 'token' in name.rsplit('.', 1)[-1]:
        return None
    return token_grid(int(parameter.shape[1]), _token_slots(backbone))


def _window(module: nn.Module) -> Optional[tuple[int, int]]:
    window = getattr(module, 'window_size', None)
    if isinstance(window, int):
        return window, window
    if isinstance(window, Sequence) and len(window) == 2 and all(
            isinstance(v, int) for v in window):
        return tuple(window)
    return None


@dataclass(frozen=True)
class AutoRules:
    """Rules inferred by ``auto_rules`` and one line per decision (for the report)."""

    rules: tuple[Rule, ...]
    notes: tuple[str, ...] = field(default=())


def _exact(name: str) -> str:
    return '^' + re.escape(name) + '$'


def auto_rules(backbone: nn.Module) -> AutoRules:
    """Rules for a backbone without any, inferred from its structure (module docstring)."""
    rules, notes = [], []
    offsets = offset_convs(backbone)
    kernels = [(path, module) for path, module in backbone.named_modules()
               if is_kernel_module(module) and id(module) not in offsets]
    spatial = [(path, module) for path, module in kernels
               if max(module._parameters['weight'].shape[2:]) > 1]
    if spatial:
        path, module = spatial[0]
        name = f'{path}.weight' if path else 'weight'
        size = 'x'.join(map(str, module._parameters['weight'].shape[2:]))
        rules.append(Rule('patch_embed', _exact(name)))
        notes.append(f'patch_embed: {name} (the first k>1 conv, {size})')
    if len(kernels) > len(spatial[:1]):
        rules.append(Rule('conv', r'\.weight$'))
        notes.append(f'conv: the {len(kernels) - len(spatial[:1])} other conv weight(s) '
                     f'({len(spatial[1:])} with k>1)')
    for name, parameter in backbone.named_parameters():
        grid = position_grid(backbone, name)
        if grid is not None:
            prefix, side = grid
            rules.append(Rule('pos_embed', _exact(name), 'pos_grid', grid=(side, side)))
            notes.append(f'pos_embed: {name} ({side}x{side} grid after {prefix} leading '
                         'token(s))')
    tables = [(name, _window(backbone.get_submodule(name.rpartition('.')[0])))
              for name, parameter in backbone.named_parameters()
              if name.rsplit('.', 1)[-1] == REL_POS_TABLE and parameter.dim() == 2]
    windowed = [name for name, window in tables if window is not None]
    if windowed:
        pattern = (r'(^|\.)' + REL_POS_TABLE + '$' if len(windowed) == len(tables) else
                   '^(' + '|'.join(map(re.escape, windowed)) + ')$')
        rules.append(Rule('rel_pos', pattern, 'offset_grid', grid='window_size'))
        notes.append(f'rel_pos: {len(windowed)} relative-position table(s) (offset grid of '
                     "each owner's window_size)")
    return AutoRules(tuple(rules), tuple(notes))


def rules_literal(key: str, rules: Sequence[Rule]) -> str:
    """``rules={'<key>': [dict(...), ...]}``, as one would write it in a config."""
    items = []
    for rule in rules:
        parts = [f"kind='{rule.kind}'", f"pattern=r'{rule.pattern}'"]
        if rule.target != 'kernel':
            parts.append(f"target='{rule.target}'")
        if rule.grid is not None:
            parts.append(f'grid={rule.grid!r}' if not callable(rule.grid) else
                         "grid=(h, w)")
        if rule.optional:
            parts.append('optional=True')
        items.append(f"dict({', '.join(parts)})")
    return f"rules={{'{key}': [{', '.join(items)}]}}"
