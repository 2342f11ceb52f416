"""Per-sample evaluation rotation angles: seeded, keyed by the dataset index.

The angle of dataset sample ``i`` depends only on ``(seed, i)``::

    rng = numpy.random.default_rng([seed, i])
    angle(i) = rng.uniform(low, high)                    # kind='uniform'
    angle(i) = values[rng.integers(len(values))]         # kind='list'
    angle(i) = 360 / order * rng.integers(order)         # kind='cyclic' (C_order)

so an evaluation is reproducible and gives the same angle to a sample whichever rank,
batch or worker processes it. Angles are in degrees, counter-clockwise on screen.

Configuration (the ``angles`` argument of the rotated loops)::

    dict(kind='uniform', low=-30.0, high=30.0, seed=0)   # default: U(-30, 30)
    dict(kind='list', values=[0, 90, 180, 270], seed=0)  # one value per sample
    dict(kind='cyclic', order=4, seed=0)                 # C4: {0, 90, 180, 270}

The command-line form (:func:`parse_angle_spec`) is ``uniform:LOW,HIGH``,
``list:A,B,...`` or ``cN``, each optionally followed by ``@SEED``.

The default range is :data:`mmsofteq.groups.DEFAULT_ANGLE_RANGE` (the measure the projectors'
``'resampled'`` generator is built for). This module is the one parser of angle configs: the
rotated loops (``mmsofteq.engine``) draw with it and the wrapper models (``mmsofteq.models``)
check their groups against it, which is why it sits in ``nn``, below both.
"""
from __future__ import annotations

import math
import re
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from ..groups import DEFAULT_ANGLE_RANGE

ANGLE_KINDS = ('uniform', 'list', 'cyclic')
DEFAULT_ANGLES: Dict[str, object] = dict(kind='uniform', low=DEFAULT_ANGLE_RANGE[0],
                                         high=DEFAULT_ANGLE_RANGE[1], seed=0)


class AngleSampler:
    """Maps a dataset index to its evaluation rotation angle (degrees).

    Args:
        kind: ``'uniform'`` (continuous range ``[low, high)``), ``'list'`` (uniform choice
            among ``values``) or ``'cyclic'`` (uniform choice among ``360 k / order``).
        low, high: range of ``kind='uniform'`` (default :data:`DEFAULT_ANGLE_RANGE`);
            ``low == high`` gives a fixed angle.
        values: candidate angles of ``kind='list'`` (non-empty).
        order: group order ``n`` of ``kind='cyclic'`` (``n >= 1``).
        seed: non-negative integer seed; together with the dataset index it fixes the angle.

    Raises:
        ValueError: unknown kind, ``low > high``, non-finite bounds, empty ``values``,
            ``order < 1``, negative seed, or arguments that do not belong to ``kind``.
    """

    def __init__(self,
                 kind: str = 'uniform',
                 low: Optional[float] = None,
                 high: Optional[float] = None,
                 values: Optional[Sequence[float]] = None,
                 order: Optional[int] = None,
                 seed: int = 0) -> None:
        if kind not in ANGLE_KINDS:
            raise ValueError(f'angle kind must be one of {ANGLE_KINDS}, got {kind!r}')
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f'angle seed must be a non-negative integer, got {seed!r}')
        self.kind = kind
        self.seed = int(seed)
        self.low: Optional[float] = None
        self.high: Optional[float] = None
        self.values: Optional[Tuple[float, ...]] = None
        self.order: Optional[int] = None
        if kind == 'uniform':
            _reject_unused(kind, values=values, order=order)
            self.low = float(DEFAULT_ANGLE_RANGE[0] if low is None else low)
            self.high = float(DEFAULT_ANGLE_RANGE[1] if high is None else high)
            if not (math.isfinite(self.low) and math.isfinite(self.high)):
                raise ValueError(f'angle range must be finite, got [{self.low}, {self.high}]')
            if self.low > self.high:
                raise ValueError(f'angle range has min > max: low={self.low} > high={self.high}')
        elif kind == 'list':
            _reject_unused(kind, low=low, high=high, order=order)
            if values is None or len(values) == 0:
                raise ValueError("angle kind 'list' needs a non-empty list of values")
            self.values = tuple(float(v) for v in values)
            if not all(math.isfinite(v) for v in self.values):
                raise ValueError(f'angle values must be finite, got {self.values}')
        else:
            _reject_unused(kind, low=low, high=high, values=values)
            if order is None or isinstance(order, bool) or int(order) != order or order < 1:
                raise ValueError(f"angle kind 'cyclic' needs an integer order >= 1, got {order!r}")
            self.order = int(order)
            self.values = tuple(360.0 * k / self.order for k in range(self.order))

    @classmethod
    def from_config(cls, config: Union[None, Mapping, 'AngleSampler']) -> 'AngleSampler':
        """Build from a config dict (``None`` means :data:`DEFAULT_ANGLES`)."""
        if isinstance(config, AngleSampler):
            return config
        if config is None:
            config = DEFAULT_ANGLES
        if not isinstance(config, Mapping):
            raise TypeError(f'angles must be a dict or AngleSampler, got {type(config)}')
        return cls(**dict(config))

    def angle_for(self, dataset_index: int) -> float:
        """Angle in degrees of the sample at ``dataset_index`` (a non-negative int)."""
        return self.angles_for(dataset_index, 1)[0]

    def angles_for(self, dataset_index: int, count: int) -> Tuple[float, ...]:
        """``count`` angles of the sample: successive draws of its generator, the first being
        :meth:`angle_for` (the worst-case metrics' ``k`` angles per image)."""
        if isinstance(dataset_index, bool) or int(dataset_index) != dataset_index \
                or dataset_index < 0:
            raise ValueError(f'dataset index must be a non-negative integer, got {dataset_index!r}')
        if isinstance(count, bool) or int(count) != count or count < 1:
            raise ValueError(f'angle count must be a positive integer, got {count!r}')
        rng = np.random.default_rng([self.seed, int(dataset_index)])
        if self.kind == 'uniform':
            return tuple(float(a) for a in rng.uniform(self.low, self.high, size=int(count)))
        assert self.values is not None
        draws = rng.integers(len(self.values), size=int(count))
        return tuple(self.values[int(j)] for j in draws)

    def describe(self) -> str:
        """The angles in words, e.g. ``'U(-30°, 30°)'`` or ``'the cyclic angles of C4'``."""
        if self.kind == 'uniform':
            return f'U({self.low:g}°, {self.high:g}°)'
        if self.kind == 'cyclic':
            return f'the cyclic angles of C{self.order}'
        return f"the angles [{', '.join(f'{value:g}' for value in self.values or ())}]"

    def to_config(self) -> dict:
        """The config dict that rebuilds this sampler."""
        if self.kind == 'uniform':
            return dict(kind='uniform', low=self.low, high=self.high, seed=self.seed)
        if self.kind == 'list':
            return dict(kind='list', values=list(self.values or ()), seed=self.seed)
        return dict(kind='cyclic', order=self.order, seed=self.seed)

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in self.to_config().items())
        return f'{type(self).__name__}({args})'


def _reject_unused(kind: str, **arguments: object) -> None:
    given = [name for name, value in arguments.items() if value is not None]
    if given:
        raise ValueError(f'angle kind {kind!r} does not take {given}')


_NUMBER = r'[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?'


def parse_angle_spec(spec: str) -> dict:
    """Parse a command-line angle specification into an ``angles`` config dict.

    Grammar (case-insensitive, spaces ignored; angles in degrees)::

        SPEC    := BODY [ '@' SEED ]
        BODY    := 'uniform:' LOW ',' HIGH      e.g. uniform:-30,30
                 | 'list:' A { ',' A }          e.g. list:0,90,180,270   (or list:15)
                 | 'c' N                        e.g. c4  ==  list:0,90,180,270
        SEED    := non-negative integer         e.g. c4@1

    The result has a ``seed`` key only when ``@SEED`` was given. The spec is validated by
    building an :class:`AngleSampler`, so e.g. ``uniform:30,-30`` or ``list:`` raise.

    Raises:
        ValueError: the spec does not follow the grammar or describes invalid angles.
    """
    if not isinstance(spec, str):
        raise ValueError(f'angle spec must be a string, got {type(spec)}')
    text = re.sub(r'\s+', '', spec).lower()
    seed: Optional[int] = None
    if '@' in text:
        text, seed_text = text.rsplit('@', 1)
        if not re.fullmatch(r'\d+', seed_text):
            raise ValueError(f'angle spec {spec!r}: seed after "@" must be a non-negative '
                             f'integer, got {seed_text!r}')
        seed = int(seed_text)
    config: dict
    if match := re.fullmatch(rf'uniform:({_NUMBER}),({_NUMBER})', text):
        config = dict(kind='uniform', low=float(match[1]), high=float(match[2]))
    elif match := re.fullmatch(rf'list:((?:{_NUMBER}(?:,{_NUMBER})*)?)', text):
        values = [float(v) for v in match[1].split(',') if v != '']
        config = dict(kind='list', values=values)
    elif match := re.fullmatch(r'c(\d+)', text):
        config = dict(kind='cyclic', order=int(match[1]))
    else:
        raise ValueError(
            f'cannot parse angle spec {spec!r}; expected "uniform:LOW,HIGH", '
            '"list:A,B,...", or "cN" (e.g. "c4"), optionally followed by "@SEED"')
    if seed is not None:
        config['seed'] = seed
    try:
        AngleSampler(**config)
    except ValueError as error:
        raise ValueError(f'angle spec {spec!r}: {error}') from None
    return config
