"""Apply a ``softeq`` config to a built model: rules → projectors → re-parameterised tensors.

``inject_soft_equivariance(model, softeq)`` is the one entry point used by the wrapper
(``mmsofteq.SoftEqModel``), the hook (``mmsofteq.SoftEqHook``) and the tools. Steps:

1. parse ``softeq`` (``SoftEqConfig``, raises ``ValueError`` on bad values);
2. find the ruled backbones (``rules.rules_for`` on every sub-module, outermost first);
3. list the candidates: every ``nn.Conv2d`` weight of the model (kernel rules, ``include``)
   and every parameter a ``pos_grid`` rule names; decide each one: projected, identity
   (softness 1), or untouched with a reason (excluded, non-square, below
   ``min_kernel_size``, no rule);
4. check that nothing in the config was a no-op: every rule and every include/exclude pattern
   must match something, and a model with no ruled backbone needs ``include`` patterns;
5. build the projectors (cached per group/size/cutoff/method) and only then re-parameterise
   (``reparam.project_parameter``), so a failing config leaves the model untouched;
6. make ``init_weights`` of the root and of each ruled backbone write ``θ``; log the report.

Injection is idempotent for an equal config and refuses a different one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Union

import torch
from mmengine.model import is_model_wrapper
from torch import nn

from ..projection import invariant_projector
from .config import SoftEqConfig
from .reparam import GridProjection, KernelProjection, project_parameter, swap_class
from .report import ProjectedTensor, ProjectionReport, UntouchedTensor
from .rules import Rule, known_backbones, rules_for, type_keys

SoftEqLike = Union[SoftEqConfig, Mapping[str, Any]]


@dataclass
class _Candidate:
    name: str  # state-dict key
    owner: nn.Module
    param: str
    target: str  # 'kernel' | 'pos_grid'
    kind: Optional[str] = None
    grid: Optional[tuple] = None  # (h, w) for pos_grid, (kh, kw) for kernels
    prefix_tokens: int = 0
    reason: Optional[str] = None  # set when the tensor stays untouched

    @property
    def shape(self) -> tuple:
        return tuple(self.owner._parameters[self.param].shape)


@dataclass
class _Backbone:
    path: str
    module: nn.Module
    key: str
    rules: tuple[Rule, ...]

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
        if any(b.path == '' or path == b.path or path.startswith(b.path + '.') for b in found):
            continue
        match = rules_for(module, config.rules)
        if match is not None:
            found.append(_Backbone(path, module, *match))
    return found


def _no_rule_error(model: nn.Module, config: SoftEqConfig) -> ValueError:
    backbone = getattr(model, 'backbone', None)
    if isinstance(backbone, nn.Module):
        what = f'backbone type {_describe_type(backbone)} of model {_describe_type(model)}'
        key = type_keys(type(backbone))[0]
    else:
        what = f'model type {_describe_type(model)}'
        key = type_keys(type(model))[0]
    return ValueError(
        f'mmsofteq has no projection rule for {what}, and softeq.include selects no Conv2d '
        f'weight. Rules exist for {known_backbones(config.rules)}. Add a rule from the config, '
        f"e.g. softeq=dict(..., rules={{'{key}': [dict(kind='conv', pattern=r'\\.weight$', "
        "target='kernel')]}) (pos_grid rules take grid='<attribute>' or (h, w)), register one "
        "with mmsofteq.nn.register_rules(...), or pick Conv2d weights with "
        "softeq.include=['<regex>'].")


def _collect_candidates(model: nn.Module, backbones: list[_Backbone],
                        config: SoftEqConfig) -> list[_Candidate]:
    """Every Conv2d weight, and every parameter a pos_grid rule matches, with a decision."""
    rule_hits = {(b.path, index): 0 for b in backbones for index in range(len(b.rules))}
    include_hits = dict.fromkeys(config.include, 0)
    candidates: list[_Candidate] = []

    for path, module in model.named_modules():
        if not isinstance(module, nn.Conv2d) or module._parameters.get('weight') is None:
            continue
        name = _join(path, 'weight')
        candidate = _Candidate(name, module, 'weight', 'kernel',
                               grid=tuple(module._parameters['weight'].shape[2:]))
        backbone = next((b for b in backbones if b.relative(name) is not None), None)
        if backbone is not None:
            relative = backbone.relative(name)
            for index, rule in enumerate(backbone.rules):
                if rule.target == 'kernel' and rule.matches(relative):
                    rule_hits[(backbone.path, index)] += 1
                    if candidate.kind is None:
                        candidate.kind = rule.kind
        included = [pattern for pattern in config.include if _search(pattern, name)]
        for pattern in included:
            include_hits[pattern] += 1
        if candidate.kind is None and included:
            candidate.kind = 'conv'
        if candidate.kind is None:
            candidate.reason = (f'no kernel rule of {backbone.key} matches'
                                if backbone is not None else
                                'outside the ruled backbone(s); no softeq.include pattern')
        candidates.append(candidate)

    for backbone in backbones:
        for index, rule in enumerate(backbone.rules):
            if rule.target != 'pos_grid':
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
                candidates.append(_pos_grid_candidate(name, owner, param, parameter, rule,
                                                      backbone))

    for (path, index), hits in rule_hits.items():
        if hits == 0:
            backbone = next(b for b in backbones if b.path == path)
            rule = backbone.rules[index]
            domain = 'Conv2d weight' if rule.target == 'kernel' else 'parameter'
            raise ValueError(f'softeq rule {rule.as_dict()} of {backbone.key} (module '
                             f"'{path or '<model>'}') matches no {domain}; fix its pattern "
                             '(searched in names relative to the backbone) or replace the '
                             f"backbone's rules with softeq.rules={{'{backbone.key}': [...]}}")
    for pattern, hits in include_hits.items():
        if hits == 0:
            raise ValueError(f'softeq.include pattern {pattern!r} matches no Conv2d weight of '
                             f'{_describe_type(model)}')
    return candidates


def _search(pattern: str, name: str) -> bool:
    return re.search(pattern, name) is not None


def _pos_grid_candidate(name: str, owner: nn.Module, param: str, parameter: torch.Tensor,
                        rule: Rule, backbone: _Backbone) -> _Candidate:
    height, width = rule.grid_shape(backbone.module)
    if parameter.dim() != 3:
        raise ValueError(f'{name}: a pos_grid rule needs a (1, tokens, channels) tensor, got '
                         f'shape {tuple(parameter.shape)}')
    prefix = parameter.shape[1] - height * width
    if prefix < 0:
        raise ValueError(f'{name}: {parameter.shape[1]} tokens cannot hold the {height}x{width} '
                         f'grid given by rule {rule.as_dict()} of {backbone.key}')
    return _Candidate(name, owner, param, 'pos_grid', kind=rule.kind, grid=(height, width),
                      prefix_tokens=prefix)


def _decide(candidate: _Candidate, config: SoftEqConfig) -> None:
    """Set ``candidate.reason`` when a config setting or the shape keeps it untouched."""
    if candidate.reason is not None:
        return
    excluded = [pattern for pattern in config.exclude if _search(pattern, candidate.name)]
    height, width = candidate.grid
    if excluded:
        candidate.reason = f'excluded by softeq.exclude {excluded[0]!r}'
    elif height != width:
        what = 'kernel' if candidate.target == 'kernel' else 'position grid'
        candidate.reason = f'non-square {what} {height}x{width}: no rotation projector'
    elif candidate.target == 'kernel' and height < config.min_kernel_size:
        candidate.reason = f'kernel {height}x{width} < min_kernel_size={config.min_kernel_size}'


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
        ValueError: bad ``softeq`` values, a rule or pattern that matches nothing, a model
            with no rule and no include match, a per-kind softness dict missing a kind in use,
            or a model already injected with a different config.
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
                              backbones=[(b.path, b.key) for b in backbones])
    plan = []
    for candidate in candidates:
        _decide(candidate, config)
        if candidate.reason is not None:
            report.untouched.append(UntouchedTensor(candidate.name, candidate.shape,
                                                    candidate.reason))
            continue
        softness = config.softness_for(candidate.kind)
        size = candidate.grid[0]
        projector = None
        if softness < 1.0:
            projector = invariant_projector(
                config.group, size, softness=softness, cutoff=config.cutoff,
                decay=config.decay, method=config.method, rounding=config.rounding,
                generator=config.generator,
                side='kernel' if candidate.target == 'kernel' else 'data')
        entry = ProjectedTensor(candidate.name, candidate.shape, candidate.kind,
                                candidate.target, size, softness,
                                None if projector is None else projector.certificate)
        report.projected.append(entry)
        if not entry.identity:
            plan.append((candidate, projector))

    parameters_before = [id(p) for p in model.parameters()]
    for candidate, projector in plan:
        theta = candidate.owner._parameters[candidate.param]
        dtype = theta.dtype if theta.is_floating_point() else torch.float32
        matrix = projector.as_tensor(dtype, theta.device).clone()
        projection = (KernelProjection() if candidate.target == 'kernel' else
                      GridProjection(candidate.prefix_tokens))
        project_parameter(candidate.owner, candidate.param, projection, matrix)
    for module in [model] + [b.module for b in backbones]:
        if callable(getattr(module, 'init_weights', None)):
            swap_class(module)
    if [id(p) for p in model.parameters()] != parameters_before:  # pragma: no cover
        raise RuntimeError('mmsofteq internal error: injection changed the Parameter objects')

    model.__dict__['_softeq_config'] = config
    model.__dict__['_softeq_report'] = report
    if log:
        report.log()
    return report


def softeq_report(model: nn.Module) -> Optional[ProjectionReport]:
    """The report of an injected model (``None`` if ``model`` was not injected)."""
    return model.__dict__.get('_softeq_report')


def softeq_config(model: nn.Module) -> Optional[SoftEqConfig]:
    """The ``SoftEqConfig`` an injected model carries (``None`` if not injected)."""
    return model.__dict__.get('_softeq_config')
