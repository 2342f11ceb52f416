"""The ``softeq`` config dict, parsed and validated once (``SoftEqConfig.from_dict``).

Every key of the user-facing dict, its default and its allowed values::

    softeq = dict(
        group='SO2',          # 'SO2' | 'O2' | 'C<n>' | 'D<n>' (planar groups)
        softness=0.95,        # float in [0, 1], or dict(patch_embed=.., pos_embed=.., conv=..,
                              #                         rel_pos=.., default=..)
        cutoff='hard',        # 'hard' | 'smooth' (then decay > 0 is required) | 'smooth_paper'
        decay=None,           # smooth cutoff only: m_i = exp(-(σ_i - τ) / decay) above τ
        rounding='frequency', # 'frequency' | 'cluster' | 'index' (the paper's rule)
        generator='resampled',  # 'resampled' (directions ordered by their asymmetry under the
                              # evaluation's rotations) | 'bilinear' (the paper's, C<n>/D<n>)
                              # | 'spectral' (C4/D4/C2/D2 only: exact there, not elsewhere)
        angle_range=(-30, 30),  # SO2/O2 with 'resampled': the rotations (degrees) whose
                              # asymmetry orders the directions (the rotated evaluation's)
        method='auto',        # 'auto' | 'svd' | 'schur'
        include=[],           # regexes (re.search) on full parameter names: extra Conv2d
                              # (or deformable-conv) weights to project (kind 'conv')
        exclude=[],           # regexes (re.search) on full parameter names: leave these alone
        min_kernel_size=2,    # conv kernels smaller than this are left untouched
        rules={},             # {'scope.BackboneType' | 'BackboneType': [rule dict, ...]}, or
                              # 'auto': infer the rules of a backbone that has none
    )

Bad values raise ``ValueError`` naming the key; this happens when the wrapper or the hook is
built, before any model is touched.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Union

from ..groups import (DEFAULT_ANGLE_RANGE, PLANAR_GROUP_NAMES_HELP, evaluation_measure,
                      parse_group)
from ..projection import CUTOFF_KINDS, GENERATORS, METHODS, ROUNDINGS, Cutoff
from .rules import AUTO, KINDS, ParsedRules, parse_rules

#: Keys of ``softeq``; anything else is a typo and raises.
CONFIG_KEYS = ('group', 'softness', 'cutoff', 'decay', 'rounding', 'generator', 'angle_range',
               'method', 'include', 'exclude', 'min_kernel_size', 'rules')
#: Key of a per-kind softness dict that applies to every kind not named explicitly.
DEFAULT_KIND = 'default'


def _regexes(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f'softeq.{key} must be a list of regular expressions (str), got '
                         f'{value!r}')
    for pattern in value:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f'softeq.{key}: invalid regular expression {pattern!r}: '
                             f'{error}') from None
    return tuple(value)


def _check_softness(value: Any, where: str, cutoff: str, decay: Optional[float],
                    rounding: str) -> float:
    try:
        return Cutoff(softness=value, kind=cutoff, decay=decay, rounding=rounding).softness
    except ValueError as error:
        raise ValueError(f'{where}: {error}') from None


def _angle_range(value: Any, group, generator: str) -> tuple[float, float]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) \
            or len(value) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, float))
                                      for v in value):
        raise ValueError(f'softeq.angle_range must be (low, high) in degrees, got {value!r}')
    try:
        evaluation_measure(group, value)
    except ValueError as error:
        raise ValueError(f'softeq.angle_range: {error}') from None
    low, high = (float(v) for v in value)
    if (low, high) != DEFAULT_ANGLE_RANGE and (generator != 'resampled' or
                                               group.order is not None):
        raise ValueError(f"softeq.angle_range sets the rotations of generator='resampled' for "
                         f'SO2/O2; it has no effect with group {group.name} and generator '
                         f'{generator!r}')
    return low, high


def _choice(softeq: Mapping[str, Any], key: str, default: str, allowed: tuple) -> str:
    value = softeq.get(key, default)
    if value not in allowed:
        raise ValueError(f'softeq.{key} must be one of {allowed}, got {value!r}')
    return value


@dataclass(frozen=True)
class SoftEqConfig:
    """Validated ``softeq`` settings (immutable and comparable).

    Attributes:
        group: canonical group name, e.g. ``'C4'``.
        softness: ``((kind, s), ...)`` per kind; ``DEFAULT_KIND`` applies to unnamed kinds.
        cutoff, decay, rounding, generator, method: passed to
            ``mmsofteq.projection.invariant_projector``.
        include, exclude: regexes searched in full parameter names.
        min_kernel_size: conv kernels ``k x k`` with ``k < min_kernel_size`` stay untouched.
        rules: ``((backbone type key, (Rule, ...)), ...)`` added to the built-in table, or
            ``'auto'`` (rules inferred for a backbone without any; ``rule_table`` is then
            empty).
    """

    group: str
    softness: tuple[tuple[str, float], ...]
    cutoff: str = 'hard'
    decay: Optional[float] = None
    method: str = 'auto'
    rounding: str = 'frequency'
    generator: str = 'resampled'
    angle_range: tuple[float, float] = DEFAULT_ANGLE_RANGE
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    min_kernel_size: int = 2
    rules: Union[str, ParsedRules] = field(default=())

    @classmethod
    def from_dict(cls, softeq: Union['SoftEqConfig', Mapping[str, Any]]) -> 'SoftEqConfig':
        """Parse and validate a ``softeq`` dict (a ``SoftEqConfig`` is returned unchanged)."""
        if isinstance(softeq, SoftEqConfig):
            return softeq
        if not isinstance(softeq, Mapping):
            raise ValueError(f'softeq must be a dict, got {type(softeq).__name__}: {softeq!r}')
        unknown = sorted(set(softeq) - set(CONFIG_KEYS))
        if unknown:
            raise ValueError(f'softeq has unknown key(s) {unknown}; allowed keys are '
                             f'{list(CONFIG_KEYS)}')
        for required in ('group', 'softness'):
            if required not in softeq:
                raise ValueError(f"softeq needs '{required}' (e.g. softeq=dict(group='C4', "
                                 'softness=0.9))')

        group_name = softeq['group']
        if not isinstance(group_name, str):
            raise ValueError('softeq.group must be a string, one of '
                             f'{PLANAR_GROUP_NAMES_HELP}; got {group_name!r}')
        try:
            group = parse_group(group_name)
        except ValueError:
            raise ValueError(f'softeq.group: unknown group {group_name!r}; image backbones '
                             f'take {PLANAR_GROUP_NAMES_HELP}') from None
        if group.three_dimensional:
            raise ValueError(f'softeq.group: {group.name} acts on 3-D vectors; image backbones '
                             f'take a planar group: {PLANAR_GROUP_NAMES_HELP}')

        cutoff = _choice(softeq, 'cutoff', 'hard', CUTOFF_KINDS)
        decay = softeq.get('decay', None)
        method = _choice(softeq, 'method', 'auto', METHODS)
        rounding = _choice(softeq, 'rounding', 'frequency', ROUNDINGS)
        generator = _choice(softeq, 'generator', 'resampled', GENERATORS)
        if generator == 'spectral' and group.order not in (1, 2, 4):
            raise ValueError(f"softeq.generator='spectral' does not lower the measured rotational "
                             f'asymmetry of {group.name} kernels as softness decreases '
                             "(docs/math.md, 'Which directions softness drops'); use "
                             "generator='resampled' (the default) or the paper's 'bilinear'")
        angle_range = _angle_range(softeq.get('angle_range', DEFAULT_ANGLE_RANGE), group,
                                   generator)
        if cutoff == 'smooth' and (decay is None or isinstance(decay, bool) or
                                   not isinstance(decay, (int, float)) or
                                   not 0 < float(decay) < math.inf):
            raise ValueError(f"softeq.decay must be a finite number > 0 with cutoff='smooth', "
                             f'got {decay!r}')
        if cutoff != 'smooth' and decay is not None:
            raise ValueError(f"softeq.decay is only used with cutoff='smooth', got "
                             f'decay={decay!r} with cutoff={cutoff!r}')
        if generator == 'bilinear':
            try:
                group.generator_specs(True, discretisation='bilinear')
            except ValueError as error:
                raise ValueError(f'softeq.generator: {error}') from None
        # Validates the combination with a neutral softness before per-kind values are read.
        _check_softness(0.0, 'softeq', cutoff, decay, rounding)

        raw_softness = softeq['softness']
        if isinstance(raw_softness, Mapping):
            allowed = KINDS + (DEFAULT_KIND, )
            unknown = sorted(set(raw_softness) - set(allowed))
            if unknown:
                raise ValueError(f'softeq.softness has unknown kind(s) {unknown}; kinds are '
                                 f'{list(allowed)}')
            if not raw_softness:
                raise ValueError('softeq.softness dict is empty; give a value per kind '
                                 f'({list(allowed)}) or one float')
            softness = tuple((kind, _check_softness(raw_softness[kind],
                                                    f'softeq.softness[{kind!r}]', cutoff, decay,
                                                    rounding))
                             for kind in allowed if kind in raw_softness)
        else:
            softness = ((DEFAULT_KIND, _check_softness(raw_softness, 'softeq.softness', cutoff,
                                                       decay, rounding)), )

        min_kernel_size = softeq.get('min_kernel_size', 2)
        if isinstance(min_kernel_size, bool) or not isinstance(min_kernel_size, int) \
                or min_kernel_size < 1:
            raise ValueError(f'softeq.min_kernel_size must be an int >= 1, got '
                             f'{min_kernel_size!r}')

        return cls(group=group.name, softness=softness, cutoff=cutoff,
                   decay=None if decay is None else float(decay), method=method,
                   rounding=rounding, generator=generator, angle_range=angle_range,
                   include=_regexes(softeq.get('include'), 'include'),
                   exclude=_regexes(softeq.get('exclude'), 'exclude'),
                   min_kernel_size=min_kernel_size,
                   rules=parse_rules(softeq.get('rules') or {}, 'softeq.rules'))

    @property
    def auto_rules(self) -> bool:
        """``softeq.rules='auto'``: infer rules for a backbone that has none."""
        return self.rules == AUTO

    @property
    def rule_table(self) -> ParsedRules:
        """The config's rules as ``((key, (Rule, ...)), ...)`` (empty for ``'auto'``)."""
        return () if self.auto_rules else self.rules

    def softness_for(self, kind: str) -> float:
        """Softness of ``kind``; ``ValueError`` when a per-kind dict does not cover it."""
        values = dict(self.softness)
        if kind in values:
            return values[kind]
        if DEFAULT_KIND in values:
            return values[DEFAULT_KIND]
        raise ValueError(f'softeq.softness has no value for kind {kind!r}, which this model '
                         f'uses; add {kind}=<softness> (1.0 leaves it untouched) or '
                         f'{DEFAULT_KIND}=<softness> to the softness dict {values}')

    def cutoff_for(self, kind: str) -> Cutoff:
        return Cutoff(softness=self.softness_for(kind), kind=self.cutoff, decay=self.decay,
                      rounding=self.rounding)

    def as_dict(self) -> dict:
        """Plain-Python form (for checkpoint meta and logs), parseable by ``from_dict``."""
        softness = dict(self.softness)
        return dict(group=self.group,
                    softness=softness[DEFAULT_KIND] if list(softness) == [DEFAULT_KIND]
                    else softness,
                    cutoff=self.cutoff, decay=self.decay, rounding=self.rounding,
                    generator=self.generator, angle_range=list(self.angle_range),
                    method=self.method,
                    include=list(self.include), exclude=list(self.exclude),
                    min_kernel_size=self.min_kernel_size,
                    rules=AUTO if self.auto_rules else
                    {key: [rule.as_dict() for rule in rules] for key, rules in self.rules})
