"""Seeded per-sample angles and the command-line angle grammar."""
import numpy as np
import pytest

from mmsofteq.groups import DEFAULT_ANGLE_RANGE
from mmsofteq.nn.evaluation_angles import DEFAULT_ANGLES, AngleSampler, parse_angle_spec


def test_default_is_uniform_minus_30_to_30_and_keyed_by_index_only():
    sampler = AngleSampler.from_config(None)
    assert sampler.to_config() == dict(DEFAULT_ANGLES)
    angles = [sampler.angle_for(i) for i in range(2000)]
    assert all(-30.0 <= a < 30.0 for a in angles)
    # spread over the range, not a constant
    assert min(angles) < -27 and max(angles) > 27
    assert abs(float(np.mean(angles))) < 2.0
    # depends on the index only: any query order gives the same value
    assert [sampler.angle_for(i) for i in reversed(range(2000))] == angles[::-1]
    assert AngleSampler(seed=0).angle_for(17) == angles[17]
    # the documented formula
    assert angles[5] == float(np.random.default_rng([0, 5]).uniform(-30.0, 30.0))


def test_seed_changes_angles():
    first = [AngleSampler(seed=0).angle_for(i) for i in range(20)]
    second = [AngleSampler(seed=1).angle_for(i) for i in range(20)]
    assert first != second


def test_list_and_cyclic_draw_from_their_values():
    listed = AngleSampler(kind='list', values=[-10, 5, 90])
    drawn = {listed.angle_for(i) for i in range(200)}
    assert drawn == {-10.0, 5.0, 90.0}
    cyclic = AngleSampler(kind='cyclic', order=4)
    assert {cyclic.angle_for(i) for i in range(200)} == {0.0, 90.0, 180.0, 270.0}
    assert AngleSampler(kind='cyclic', order=1).angle_for(3) == 0.0


def test_fixed_angle_via_equal_bounds():
    sampler = AngleSampler(kind='uniform', low=12.5, high=12.5)
    assert {sampler.angle_for(i) for i in range(10)} == {12.5}


@pytest.mark.parametrize('kwargs, message', [
    (dict(kind='list', values=[]), 'non-empty'),
    (dict(kind='list'), 'non-empty'),
    (dict(kind='uniform', low=10, high=-10), 'min > max'),
    (dict(kind='uniform', low=float('nan'), high=3), 'finite'),
    (dict(kind='cyclic', order=0), 'order'),
    (dict(kind='cyclic', order=2.5), 'order'),
    (dict(kind='cyclic'), 'order'),
    (dict(kind='gaussian'), 'kind'),
    (dict(kind='uniform', seed=-1), 'seed'),
    (dict(kind='uniform', values=[1, 2]), 'does not take'),
    (dict(kind='cyclic', order=4, low=0), 'does not take'),
])
def test_invalid_angle_configs_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AngleSampler(**kwargs)


def test_negative_index_is_rejected():
    with pytest.raises(ValueError, match='non-negative'):
        AngleSampler().angle_for(-1)


@pytest.mark.parametrize('spec, expected', [
    ('uniform:-30,30', dict(kind='uniform', low=-30.0, high=30.0)),
    (' Uniform: -7.5 , 1e1 ', dict(kind='uniform', low=-7.5, high=10.0)),
    ('list:0,90,180,270', dict(kind='list', values=[0.0, 90.0, 180.0, 270.0])),
    ('list:15', dict(kind='list', values=[15.0])),
    ('c4', dict(kind='cyclic', order=4)),
    ('C8@3', dict(kind='cyclic', order=8, seed=3)),
    ('uniform:-10,10@0', dict(kind='uniform', low=-10.0, high=10.0, seed=0)),
])
def test_parse_angle_spec(spec, expected):
    assert parse_angle_spec(spec) == expected


@pytest.mark.parametrize('spec, message', [
    ('list:', 'non-empty'),
    ('uniform:30,-30', 'min > max'),
    ('c0', 'order'),
    ('uniform:1', 'cannot parse'),
    ('list:1,,2', 'cannot parse'),
    ('rot:45', 'cannot parse'),
    ('c4@x', 'seed'),
    ('c4@-1', 'seed'),
    ('', 'cannot parse'),
])
def test_parse_angle_spec_rejects_bad_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_angle_spec(spec)


@pytest.mark.parametrize('config', [dict(kind='uniform', low=-30.0, high=30.0, seed=3),
                                    dict(kind='cyclic', order=4, seed=1),
                                    dict(kind='list', values=[5.0, 10.0, 15.0], seed=0)])
def test_the_worst_case_draws_start_with_the_samples_angle(config):
    """``angles_for(i, k)``: ``k`` draws of numpy's generator seeded ``[seed, i]``, the first
    being ``angle_for(i)``; the same on every call."""
    sampler = AngleSampler(**config)
    for index in (0, 7, 123):
        draws = sampler.angles_for(index, 5)
        assert len(draws) == 5 and draws[0] == sampler.angle_for(index)
        assert draws == sampler.angles_for(index, 5)
        rng = np.random.default_rng([config['seed'], index])
        if config['kind'] == 'uniform':
            assert draws == tuple(rng.uniform(-30.0, 30.0, size=5))
    with pytest.raises(ValueError, match='positive integer'):
        sampler.angles_for(0, 0)


def test_bad_worst_case_settings_are_refused():
    from mmsofteq.engine.runner.rotated_pass import RotatedPredictionWriter
    for bad in (1, 0, True, 2.5):
        with pytest.raises(ValueError, match='worst_of must be None or an integer >= 2'):
            RotatedPredictionWriter(worst_of=bad)
    with pytest.raises(ValueError, match='dataset index'):
        AngleSampler().angles_for(-1, 3)


def test_one_default_range_and_the_angles_in_words():
    """The loops' default angles are the groups' DEFAULT_ANGLE_RANGE (one constant)."""
    assert (DEFAULT_ANGLES['low'], DEFAULT_ANGLES['high']) == DEFAULT_ANGLE_RANGE == (-30.0, 30.0)
    assert AngleSampler(kind='uniform').to_config() == dict(DEFAULT_ANGLES)
    assert AngleSampler.from_config(None).describe() == 'U(-30°, 30°)'
    assert AngleSampler(kind='uniform', low=-7.5, high=15).describe() == 'U(-7.5°, 15°)'
    assert AngleSampler(kind='cyclic', order=4).describe() == 'the cyclic angles of C4'
    assert AngleSampler(kind='list', values=[0, -90, 7.5]).describe() == 'the angles [0, -90, 7.5]'
