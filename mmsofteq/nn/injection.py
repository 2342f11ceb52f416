"""Apply a ``softeq`` config to a built model: rules → projectors → re-parameterised tensors.

``inject_soft_equivariance(model, softeq)`` is the one entry point used by the wrapper
(``mmsofteq.SoftEqModel``), the hook (``mmsofteq.SoftEqHook``) and the tools. Steps:

1. parse ``softeq`` (``SoftEqConfig``, raises ``ValueError`` on bad values);
2. find the ruled backbones (``rules.rules_for`` on every sub-module, outermost first; with
   ``softeq.rules='auto'``, rules inferred by ``structure.auto_rules`` for a backbone without
   any); every backbone key of ``softeq.rules`` must be used by one of them;
3. list the candidates: every ``nn.Conv2d`` and deformable-conv weight of the model (kernel
   rules, ``include``; offset convs of deformable convs are never projected), every parameter
   a ``pos_grid`` / ``offset_grid`` rule names, and every other spatial tensor of a ruled
   backbone (4-D weights of other modules, patch-merging Linears, unmatched position grids and
   relative-position tables); decide each one: projected, identity (softness 1), or untouched
   with a reason (excluded, non-square, below ``min_kernel_size``, no rule, not projectable);
4. check that nothing in the config was a no-op: every (non-optional) rule and every
   include/exclude pattern must match something, and a model with no ruled backbone needs
   ``include`` patterns;
5. build the projectors (cached per group/size/cutoff/method) and only then re-parameterise
   (``reparam.project_parameter``), so a failing config leaves the model untouched;
6. make ``init_weights`` of the root and of each ruled backbone write ``θ``; log the report.

Injection is idempotent for an equal config and refuses a different one.
"""
from __future__ import annotations

import difflib
import logging
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Union

import torch
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from torch import nn

from ..projection import invariant_projector
from .config import SoftEqConfig
from .asymmetry import measure_asymmetry
from .checkpoint_guard import declare_reparameterised
from .projections import KernelProjection, Projection
from .reparam import project_parameter, swap_class
from .report import ProjectedTensor, ProjectionReport, UntouchedTensor
from .rules import AUTO, Rule, class_keys, known_backbones, rules_for, type_keys
from .structure import (OFFSET_CONV_REASON, REL_POS_TABLE, UNPROJECTED_SPATIAL, auto_rules,
                        is_kernel_module, offset_convs, position_grid, rules_literal,
                        unfold_window)

SoftEqLike = Union[SoftEqConfig, Mapping[str, Any]]


@dataclass
class _Candidate:
    name: str  # state-dict key
    owner: nn.Module
    param: str
    projection: Optional[Projection] = None  # where and how P acts (None: no projection fits)
    kind: Optional[str] = None
    reason: Optional[str] = None  # set when the tensor stays untouched

    @property
    def shape(self) -> tuple:
        return tuple(self.owner._parameters[self.param].shape)


@dataclass
class _Backbone:
    path: str
    module: nn.Module
    key: str  # the matched rule key, or 'auto'
    rules: tuple[Rule, ...]
    notes: tuple[str, ...] = ()

    def relative(self, name: str) -> Optional[str]:
        """``name`` relative to this backbone, or ``None`` if it lies outside."""
        if not self.path:
            return name
        return name[len(self.path) + 1:] if name.startswith(self.path + '.') else None


def _join(prefix: str, name: str) -> str:
    return f'{prefix}.{name}' if prefix else name


def _describe_type(module: nn.Module) -> str:
    cls = type(module)
    return f"'{type_keys(cls)[0]}' ({cls.__module__}.{cls.__qualname__})"


def _find_backbones(model: nn.Module, config: SoftEqConfig) -> list[_Backbone]:
    found: list[_Backbone] = []
    for path, module in model.named_modules():
        if any(_overlaps(path, b.path) for b in found):
            continue
        match = rules_for(module, config.rule_table)
        if match is not None:
            found.append(_Backbone(path, module, *match))
    if config.auto_rules:
        auto = _auto_backbone(model, found)
        if auto is not None:
            found.append(auto)
    return found


def _inside(path: str, outer: str) -> bool:
    """``path`` lies strictly inside the module path ``outer``."""
    return path != outer and (not outer or path.startswith(outer + '.'))


def _overlaps(path: str, other: str) -> bool:
    """One of the two module paths lies inside (or is) the other."""
    return (path == other or not path or not other or path.startswith(other + '.')
            or other.startswith(path + '.'))


def _main_backbone(model: nn.Module) -> tuple[str, nn.Module]:
    """``('backbone', model.backbone)`` of a segmentor / classifier, else ``('', model)``."""
    backbone = getattr(model, 'backbone', None)
    if isinstance(backbone, nn.Module):
        return 'backbone', backbone
    return '', model


def _auto_backbone(model: nn.Module, found: list[_Backbone]) -> Optional[_Backbone]:
    """``softeq.rules='auto'``: the main backbone with rules inferred from its structure, when
    no ruled backbone lies at or around it (``None`` then). Ruled backbones nested inside it
    (ICNet's ResNet) keep their own rules: they come first in the list, so their tensors are
    theirs, and the inferred rules cover the rest of the main backbone."""
    path, module = _main_backbone(model)
    if any(_overlaps(path, b.path) and not _inside(b.path, path) for b in found):
        return None
    inferred = auto_rules(module)
    rules, nested_notes = inferred.rules, ()
    nested = [b for b in found if _inside(b.path, path)]
    if nested:
        # the nested backbones' tensors are theirs: keep the rules that match something else
        own = [relative for relative, _ in module.named_parameters()
               if not any(b.relative(_join(path, relative)) is not None for b in nested)]
        rules = tuple(rule for rule in rules if any(rule.matches(name) for name in own))
        nested_notes = tuple(f"  {b.path} keeps its own rules ({b.key})" for b in nested)
    where = f"{_describe_type(module)} at '{path or '<model>'}'"
    if not rules:
        if nested:
            return None
        raise ValueError(f"softeq.rules='auto' found no conv kernel, position grid or "
                         f'relative-position table in {where}; nothing to project. Give its '
                         f"rules in softeq.rules={{'{type_keys(type(module))[0]}': [...]}} or "
                         "pick Conv2d weights with softeq.include=['<regex>']")
    notes = (f"rules='auto' for {where}, inferred from its structure:",
             *(f'  {note}' for note in inferred.notes), *nested_notes,
             f'  as a config: softeq.{rules_literal(type_keys(type(module))[0], rules)}')
    return _Backbone(path, module, AUTO, rules, notes)


def _check_rule_keys(model: nn.Module, backbones: list[_Backbone], config: SoftEqConfig) -> None:
    """Every backbone key of ``softeq.rules`` must be the key of a ruled backbone: a typo, or a
    key whose rules a more specific key or an outer backbone overrides, raises."""
    used = {b.key for b in backbones}
    ruled = ', '.join(f"{b.path or '<model>'} ({b.key})" for b in backbones) or 'none'
    for key, _ in config.rule_table:
        if key in used:
            continue
        holders = [path for path, module in model.named_modules() if key in class_keys(module)]
        if holders:
            backbone = next(b for b in backbones if _overlaps(holders[0], b.path))
            why = (f'the more specific key {backbone.key!r} matches it first'
                   if backbone.path == holders[0] else
                   f"it lies inside the ruled backbone '{backbone.path or '<model>'}' "
                   f'({backbone.key}), whose rules cover it')
            raise ValueError(f'softeq.rules key {key!r} matches module '
                             f"'{holders[0] or '<model>'}' of {_describe_type(model)}, but its "
                             f"rules would never be used: {why}; write them under "
                             f'{backbone.key!r}')
        path, main = _main_backbone(model)
        names = sorted({name for _, module in model.named_modules()
                        for name in class_keys(module)})
        close = difflib.get_close_matches(key, names, n=3, cutoff=0.6)
        raise ValueError(f'softeq.rules key {key!r} matches no module of {_describe_type(model)} '
                         f"(a typo?). Backbone types found: {path or '<model>'} "
                         f'{_describe_type(main)}; ruled backbones: {ruled}.'
                         + (f' Did you mean {" or ".join(map(repr, close))}?' if close else '')
                         + " Keys are '<scope>.<ClassName>' or '<ClassName>' of the backbone or "
                         'of a base class.')


def _no_rule_error(model: nn.Module, config: SoftEqConfig) -> ValueError:
    path, backbone = _main_backbone(model)
    if path:
        what = f'backbone type {_describe_type(backbone)} of model {_describe_type(model)}'
    else:
        what = f'model type {_describe_type(model)}'
    key = type_keys(type(backbone))[0]
    suggested = auto_rules(backbone).rules or (Rule('conv', r'\.weight$'), )
    return ValueError(
        f'mmsofteq has no projection rule for {what}, and softeq.include selects no Conv2d '
        f'weight. Rules exist for {known_backbones(config.rule_table)}. Let mmsofteq infer '
        f"them from the structure with softeq=dict(..., rules='auto') (the report lists each "
        f'decision), or add a rule from the config, e.g. softeq=dict(..., '
        f"{rules_literal(key, suggested)}) (pos_grid rules take grid='<attribute>' or (h, w)), "
        'register one with mmsofteq.nn.register_rules(...), or pick Conv2d weights with '
        "softeq.include=['<regex>'].")


def _collect_candidates(model: nn.Module, backbones: list[_Backbone],
                        config: SoftEqConfig) -> list[_Candidate]:
    """Every Conv2d / deformable-conv weight, every parameter a pos_grid / offset_grid rule
    matches, and every other spatial tensor of a ruled backbone, with a decision."""
    rule_hits = {(b.path, index): 0 for b in backbones for index in range(len(b.rules))}
    include_hits = dict.fromkeys(config.include, 0)
    candidates: list[_Candidate] = []
    offsets = offset_convs(model)

    for path, module in model.named_modules():
        if not is_kernel_module(module):
            continue
        name = _join(path, 'weight')
        candidate = _Candidate(name, module, 'weight', KernelProjection(
            tuple(module._parameters['weight'].shape[2:])))
        backbone = next((b for b in backbones if b.relative(name) is not None), None)
        if backbone is not None:
            relative = backbone.relative(name)
            for index, rule in enumerate(backbone.rules):
                if rule.projection is KernelProjection and rule.matches(relative):
                    rule_hits[(backbone.path, index)] += 1
                    if candidate.kind is None:
                        candidate.kind = rule.kind
        included = [pattern for pattern in config.include if _search(pattern, name)]
        for pattern in included:
            include_hits[pattern] += 1
        if candidate.kind is None and included:
            candidate.kind = 'conv'
        if id(module) in offsets:
            candidate.kind = None
            candidate.reason = OFFSET_CONV_REASON.format(owner=type(offsets[id(module)]).__name__)
        elif candidate.kind is None:
            candidate.reason = (f'no kernel rule of {backbone.key} matches'
                                if backbone is not None else
                                'outside the ruled backbone(s); no softeq.include pattern')
        candidates.append(candidate)

    for backbone in backbones:
        for index, rule in enumerate(backbone.rules):
            if rule.projection is KernelProjection:
                continue
            for relative, parameter in backbone.module.named_parameters():
                if not rule.matches(relative):
                    continue
                rule_hits[(backbone.path, index)] += 1
                name = _join(backbone.path, relative)
                if any(c.name == name for c in candidates):
                    continue
                owner_path, _, param = relative.rpartition('.')
                owner = backbone.module.get_submodule(owner_path)
                projection = rule.projection.for_rule(rule, backbone.key, name, parameter,
                                                      backbone.module, owner)
                candidates.append(_Candidate(name, owner, param, projection, kind=rule.kind))

    known = {c.name for c in candidates}
    for backbone in backbones:
        candidates.extend(_unprojectable(backbone, known))
    known = {c.name for c in candidates}
    candidates.extend(_unprojected_spatial(model, known, backbones))

    for (path, index), hits in rule_hits.items():
        if hits == 0:
            backbone = next(b for b in backbones if b.path == path)
            rule = backbone.rules[index]
            if rule.optional:
                continue
            raise ValueError(f'softeq rule {rule.as_dict()} of {backbone.key} (module '
                             f"'{path or '<model>'}') matches no {rule.projection.rule_domain}; "
                             'fix its pattern '
                             '(searched in names relative to the backbone) or replace the '
                             f"backbone's rules with softeq.rules={{'{backbone.key}': [...]}}")
    for pattern, hits in include_hits.items():
        if hits == 0:
            raise ValueError(f'softeq.include pattern {pattern!r} matches no Conv2d weight of '
                             f'{_describe_type(model)}')
    return candidates


def _search(pattern: str, name: str) -> bool:
    return re.search(pattern, name) is not None


def _unprojectable(backbone: _Backbone, known: set[str]) -> list[_Candidate]:
    """The spatial tensors of ``backbone`` that are no candidate yet, each untouched with its
    reason: 4-D ``k > 1`` weights of modules that are no (deformable) conv, Linears over
    unfolded ``k x k`` windows (patch merging), and parameters shaped like a position grid or
    named like a relative-position table that no rule matched."""
    found = []
    for path, module in backbone.module.named_modules():
        for param, parameter in module._parameters.items():
            relative = _join(path, param)
            name = _join(backbone.path, relative)
            if parameter is None or name in known:
                continue
            grid = position_grid(backbone.module, relative)
            if (param == 'weight' and parameter.dim() == 4 and not is_kernel_module(module)
                    and max(parameter.shape[2:]) > 1):
                reason = (f'4-D weight of a {type(module).__name__}, not a Conv2d or deformable '
                          'conv: no kernel projection')
            elif param == REL_POS_TABLE:
                reason = (f'relative-position bias table; no offset_grid rule of '
                          f'{backbone.key} matches')
            elif grid is not None:
                reason = (f'shaped like a position grid ({grid[1]}x{grid[1]} after {grid[0]} '
                          f'token(s)); no pos_grid rule of {backbone.key} matches')
            else:
                continue
            found.append(_Candidate(name, module, param, reason=reason))
        window = unfold_window(module)
        if window is None:
            continue
        for child_path, child in module.named_children():
            name = _join(backbone.path, _join(path, f'{child_path}.weight'))
            if isinstance(child, nn.Linear) and name not in known:
                found.append(_Candidate(
                    name, child, 'weight',
                    reason=(f'Linear over nn.Unfold {window[0]}x{window[1]} windows (patch '
                            'merging): a spatial kernel stored as a Linear after a norm over '
                            'the window, not a Conv2d; not projected')))
    return found


def _unprojected_spatial(model: nn.Module, known: set[str],
                         backbones: list[_Backbone]) -> list[_Candidate]:
    """Every other spatial tensor of the whole model, untouched with its reason: 4-D ``k > 1``
    weights of modules that are no (deformable) conv (``ConvTranspose2d``, ...) and the
    families of :data:`structure.UNPROJECTED_SPATIAL`."""
    found = []
    for path, module in model.named_modules():
        for param, parameter in module._parameters.items():
            name = _join(path, param)
            if parameter is None or name in known:
                continue
            reason = None
            if (param == 'weight' and parameter.dim() == 4 and not is_kernel_module(module)
                    and max(parameter.shape[2:]) > 1):
                reason = (f'kernel of a {type(module).__name__}, not a Conv2d or deformable '
                          'conv: no kernel projection')
            else:
                reason = next((why for pattern, dim, why in UNPROJECTED_SPATIAL
                               if parameter.dim() >= dim and _search(pattern, name)), None)
            if reason is None:
                continue
            if not any(b.relative(name) is not None for b in backbones):
                reason = f'outside the ruled backbone(s); {reason}'
            found.append(_Candidate(name, module, param, reason=reason))
    return found


def _decide(candidate: _Candidate, config: SoftEqConfig) -> None:
    """Set ``candidate.reason`` when a config setting or the shape keeps it untouched."""
    if candidate.reason is not None:
        return
    excluded = [pattern for pattern in config.exclude if _search(pattern, candidate.name)]
    height, width = candidate.projection.grid
    if excluded:
        candidate.reason = f'excluded by softeq.exclude {excluded[0]!r}'
    elif height != width:
        candidate.reason = (f'non-square {candidate.projection.noun} {height}x{width}: no '
                            'rotation projector')
    elif isinstance(candidate.projection, KernelProjection) and \
            height < config.min_kernel_size:
        candidate.reason = f'kernel {height}x{width} < min_kernel_size={config.min_kernel_size}'


def _projector_fingerprint(matrix) -> tuple[float, float]:
    """``(trace P, Σ P ∘ R)`` with a fixed pseudo-random ``R``: equal for equal projectors,
    different (beyond rounding) for a different kept subspace."""
    import numpy as np
    weights = np.random.default_rng(matrix.shape[0]).standard_normal(matrix.shape)
    return float(np.trace(matrix)), float(np.sum(matrix * weights))


def _check_projectors_agree_across_ranks(projectors: list) -> None:
    """In a distributed run every rank builds its projectors itself (float64, deterministic
    given the same numpy/scipy); compare their fingerprints once, at injection, and refuse to
    train with projectors that differ between ranks (another library build choosing another
    basis inside a degenerate cluster would make the ranks optimise different models)."""
    import torch.distributed as dist
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return
    mine = [_projector_fingerprint(p.matrix) for p in projectors]
    gathered = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, mine)
    reference = gathered[0]
    for rank, theirs in enumerate(gathered):
        differs = len(theirs) != len(reference) or any(
            abs(a - b) > 1e-8 * max(1.0, abs(b)) for pa, pb in zip(theirs, reference)
            for a, b in zip(pa, pb))
        if differs:
            raise RuntimeError(
                f'mmsofteq: the projectors built on rank {rank} differ from rank 0\'s '
                f'(fingerprints {theirs[:3]} vs {reference[:3]}, ...): the ranks would train '
                'different models. Use the same numpy/scipy/torch build on every node.')


def _check_not_a_no_op(model: nn.Module, report: ProjectionReport) -> None:
    """Nothing selected is an error; selected but all identity a warning that says why."""
    if not report.projected:
        reasons = Counter(entry.reason for entry in report.untouched)
        summary = '; '.join(f'{reason} (x{count})' for reason, count in reasons.most_common(4))
        raise ValueError(
            f'softeq projects nothing in {_describe_type(model)}: every one of the '
            f'{len(report.untouched)} candidate tensor(s) is left untouched ({summary or "none"}'
            '). Loosen softeq.exclude / min_kernel_size, or drop softeq to train the plain '
            'model.')
    if all(entry.identity for entry in report.projected):
        soft = [entry for entry in report.projected if entry.softness < 1.0]
        why = ('softness 1 for every selected tensor' if not soft else
               f'the cutoff keeps every direction (e.g. {soft[0].name}, softness '
               f'{soft[0].softness:g}, {soft[0].grid_size}x{soft[0].grid_size} grid)')
        print_log(f'softeq leaves {_describe_type(model)} unchanged: {why}; the model is the '
                  'base model (equivariance error unbounded).', logger='current',
                  level=logging.WARNING)


def inject_soft_equivariance(model: nn.Module, softeq: SoftEqLike, *,
                             log: bool = True) -> ProjectionReport:
    """Re-parameterise ``model``'s rule-selected tensors as ``P·θ`` in place.

    Args:
        model: a built segmentor / classifier / backbone (not a DDP wrapper: pass
            ``wrapper.module``).
        softeq: the ``softeq`` dict (see ``mmsofteq.nn.config``) or a ``SoftEqConfig``.
        log: write the report to the current mmengine logger.

    Returns:
        The ``ProjectionReport`` (also kept as ``model._softeq_report``).

    Raises:
        ValueError: bad ``softeq`` values, a rule or pattern that matches nothing, a
            ``softeq.rules`` key that no backbone of the model uses, a model with no rule
            (without ``rules='auto'``) and no include match, a per-kind softness dict missing
            a kind in use, or a model already injected with a different config.
    """
    config = SoftEqConfig.from_dict(softeq)
    if is_model_wrapper(model):
        raise ValueError(f'pass the wrapped model ({type(model).__name__}.module) to '
                         'inject_soft_equivariance, not the wrapper: state-dict keys are '
                         "the model's own")
    existing = model.__dict__.get('_softeq_config')
    if existing is not None:
        if existing == config:
            return model.__dict__['_softeq_report']
        raise ValueError(f'{_describe_type(model)} already carries soft equivariance with '
                         f'{existing.as_dict()}; refusing to apply {config.as_dict()} on top')

    backbones = _find_backbones(model, config)
    _check_rule_keys(model, backbones, config)
    candidates = _collect_candidates(model, backbones, config)
    if not backbones and not any(c.kind is not None for c in candidates):
        raise _no_rule_error(model, config)

    exclude_hits = {pattern: any(_search(pattern, c.name) for c in candidates if c.kind)
                    for pattern in config.exclude}
    for pattern, hit in exclude_hits.items():
        if not hit:
            raise ValueError(f'softeq.exclude pattern {pattern!r} matches no tensor selected '
                             f'for projection in {_describe_type(model)}')

    report = ProjectionReport(group=config.group, model_type=type_keys(type(model))[0],
                              backbones=[(b.path, b.key) for b in backbones],
                              notes=[note for b in backbones for note in b.notes],
                              angle_range=config.angle_range, generator=config.generator)
    plan = []
    for candidate in candidates:
        _decide(candidate, config)
        if candidate.reason is not None:
            report.untouched.append(UntouchedTensor(candidate.name, candidate.shape,
                                                    candidate.reason))
            continue
        softness = config.softness_for(candidate.kind)
        projection = candidate.projection
        size = projection.grid[0]
        projector = None
        if softness < 1.0:
            projector = invariant_projector(
                config.group, size, softness=softness, cutoff=config.cutoff,
                decay=config.decay, method=config.method, rounding=config.rounding,
                generator=config.generator, angle_range=config.angle_range,
                side=projection.side)
        entry = ProjectedTensor(candidate.name, candidate.shape, candidate.kind,
                                projection.target, size, softness,
                                None if projector is None else projector.certificate)
        report.projected.append(entry)
        if not entry.identity:
            plan.append((candidate, projector))

    _check_not_a_no_op(model, report)
    _check_projectors_agree_across_ranks([projector for _, projector in plan])

    parameters_before = [id(p) for p in model.parameters()]
    for candidate, projector in plan:
        theta = candidate.owner._parameters[candidate.param]
        dtype = theta.dtype if theta.is_floating_point() else torch.float32
        matrix = projector.as_tensor(dtype, theta.device).clone()
        project_parameter(candidate.owner, candidate.param, candidate.projection, matrix)
    for module in [model] + [b.module for b in backbones]:
        if callable(getattr(module, 'init_weights', None)):
            swap_class(module)
    if [id(p) for p in model.parameters()] != parameters_before:  # pragma: no cover
        raise RuntimeError('mmsofteq internal error: injection changed the Parameter objects')

    model.__dict__['_softeq_config'] = config
    model.__dict__['_softeq_report'] = report
    if declare_reparameterised not in model._state_dict_hooks.values():
        model._register_state_dict_hook(declare_reparameterised)
    measure_asymmetry(model, report)
    if log:
        report.log()
    return report


def softeq_report(model: nn.Module) -> Optional[ProjectionReport]:
    """The report of an injected model (``None`` if ``model`` was not injected)."""
    return model.__dict__.get('_softeq_report')


def softeq_config(model: nn.Module) -> Optional[SoftEqConfig]:
    """The ``SoftEqConfig`` an injected model carries (``None`` if not injected)."""
    return model.__dict__.get('_softeq_config')
