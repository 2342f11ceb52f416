"""``softeq`` dict validation: every key has a clear error for a bad value."""
import pytest

from mmsofteq.nn import Rule, SoftEqConfig


def parse(**softeq):
    return SoftEqConfig.from_dict(softeq)


def test_defaults_and_round_trip():
    config = parse(group='c8', softness=0.9)
    assert config.group == 'C8'
    assert config.softness_for('conv') == config.softness_for('pos_embed') == 0.9
    assert (config.cutoff, config.decay, config.method, config.min_kernel_size) == (
        'hard', None, 'auto', 2)
    assert SoftEqConfig.from_dict(config.as_dict()) == config
    per_kind = parse(group='SO2', softness=dict(patch_embed=1, pos_embed=0.9, conv=0.95),
                     cutoff='smooth', decay=0.5, method='svd', include=['head'],
                     exclude=r'stem\.0', min_kernel_size=4,
                     rules={'Foo': [dict(kind='conv', pattern=r'\.weight$')]})
    assert per_kind.softness_for('patch_embed') == 1.0
    assert per_kind.exclude == (r'stem\.0', )
    assert per_kind.rules == (('Foo', (Rule('conv', r'\.weight$'), )), )
    assert SoftEqConfig.from_dict(per_kind.as_dict()) == per_kind


@pytest.mark.parametrize('softness', [-0.1, 1.5, float('nan'), '0.5', True, None])
def test_softness_outside_unit_interval(softness):
    with pytest.raises(ValueError, match=r'softeq\.softness.*\[0, 1\]'):
        parse(group='C4', softness=softness)


def test_per_kind_softness_errors():
    with pytest.raises(ValueError, match=r"unknown kind\(s\) \['convs'\]"):
        parse(group='C4', softness=dict(convs=0.5))
    with pytest.raises(ValueError, match=r"softeq\.softness\['pos_embed'\].*\[0, 1\]"):
        parse(group='C4', softness=dict(pos_embed=2.0))
    with pytest.raises(ValueError, match='empty'):
        parse(group='C4', softness={})
    config = parse(group='C4', softness=dict(pos_embed=0.5))
    with pytest.raises(ValueError, match="no value for kind 'conv'.*default="):
        config.softness_for('conv')
    assert parse(group='C4', softness=dict(pos_embed=0.5, default=0.7)).softness_for('conv') == 0.7



def test_a_named_kind_wins_over_default():
    """docs/config_reference.md: `default` applies to every kind *not named explicitly*."""
    for named, default in ((0.3, 0.7), (0.7, 0.3), (1.0, 0.0), (0.0, 1.0)):
        config = parse(group='C4', softness=dict(default=default, conv=named, pos_embed=0.5))
        assert config.softness_for('conv') == named
        assert config.softness_for('pos_embed') == 0.5
        assert config.softness_for('patch_embed') == config.softness_for('rel_pos') == default
        assert config.cutoff_for('conv').softness == named

@pytest.mark.parametrize('group, message', [
    ('C4x', 'unknown group'), ('Z2', 'unknown group'), (4, 'must be a string'),
    ('SO3', '3-D vectors'), ('C0', 'unknown group')])
def test_bad_group(group, message):
    with pytest.raises(ValueError, match=f'softeq.group.*{message}') as raised:
        parse(group=group, softness=0.5)
    allowed = str(raised.value).split("'SO2'", 1)[1]
    assert 'SO3' not in allowed  # the groups listed as allowed are the planar ones


@pytest.mark.parametrize('softeq, message', [
    (dict(group='C4'), "needs 'softness'"),
    (dict(softness=0.5), "needs 'group'"),
    (dict(group='C4', softness=0.5, softnes=0.2), r"unknown key\(s\) \['softnes'\]"),
    (dict(group='C4', softness=0.5, method='qr'), 'method must be one of'),
    (dict(group='C4', softness=0.5, cutoff='soft'),
     r"softeq.cutoff must be one of \('hard', 'smooth', 'smooth_paper'\)"),
    (dict(group='C4', softness=0.5, cutoff='smooth'), 'softeq.decay must be a finite number > 0'),
    (dict(group='C4', softness=0.5, cutoff='smooth', decay=float('inf')),
     'softeq.decay must be a finite number > 0'),
    (dict(group='C4', softness=0.5, decay=0.5), "softeq.decay is only used with cutoff='smooth'"),
    (dict(group='C4', softness=0.5, rounding='nearest'),
     r"softeq.rounding must be one of \('frequency', 'cluster', 'index'\)"),
    (dict(group='C4', softness=0.5, generator='fourier'),
     r"softeq.generator must be one of \('resampled', 'spectral', 'bilinear'\)"),
    (dict(group='SO2', softness=0.5, generator='spectral'),
     "softeq.generator='spectral' does not lower the measured rotational asymmetry of SO2"),
    (dict(group='C8', softness=0.5, generator='spectral'), "use generator='resampled'"),
    (dict(group='SO2', softness=0.5, angle_range=30), r'angle_range must be \(low, high\)'),
    (dict(group='SO2', softness=0.5, angle_range=(30, -30)), 'low <= high'),
    (dict(group='O2', softness=0.5, angle_range=(0, 30)), 'symmetric angle_range'),
    (dict(group='C4', softness=0.5, angle_range=(-10, 10)), 'no effect with group C4'),
    (dict(group='SO2', softness=0.5, generator='bilinear'),
     "softeq.generator: generator='bilinear' is the paper's discretisation of a cyclic"),
    (dict(group='C4', softness=0.5, cutoff='smooth_paper', decay=1.0),
     "softeq.decay is only used with cutoff='smooth'"),
    (dict(group='C4', softness=0.5, decay=0.1), "decay is only used with cutoff='smooth'"),
    (dict(group='C4', softness=0.5, include=['(']), r'softeq\.include: invalid regular'),
    (dict(group='C4', softness=0.5, exclude=[3]), r'softeq\.exclude must be a list'),
    (dict(group='C4', softness=0.5, min_kernel_size=0), 'min_kernel_size must be an int >= 1'),
    (dict(group='C4', softness=0.5, min_kernel_size=2.5), 'min_kernel_size must be an int'),
    (dict(group='C4', softness=0.5, rules=[1]), r'softeq\.rules must be a dict'),
    (dict(group='C4', softness=0.5, rules=dict(Foo=[dict(kind='bar', pattern='x')])),
     'rule kind must be one of'),
    (dict(group='C4', softness=0.5, rules=dict(Foo=[dict(kind='conv', pattern='x', size=3)])),
     r"unknown keys \['size'\]"),
    (dict(group='C4', softness=0.5, rules=dict(Foo=[dict(kind='pos_embed', pattern='x',
                                                         target='pos_grid')])),
     'needs grid='),
    (dict(group='C4', softness=0.5, rules=dict(Foo=[dict(kind='conv', pattern='x',
                                                         grid=(2, 2))])),
     "grid is only used with target='pos_grid'"),
    (dict(group='C4', softness=0.5, rules=dict(Foo=[])), 'non-empty list'),
])
def test_bad_keys(softeq, message):
    with pytest.raises(ValueError, match=message):
        SoftEqConfig.from_dict(softeq)


def test_not_a_dict():
    with pytest.raises(ValueError, match='softeq must be a dict'):
        SoftEqConfig.from_dict('C4')


def test_angle_range_and_the_exact_groups_spectral_generator_are_accepted():
    config = SoftEqConfig.from_dict(dict(group='SO2', softness=0.5, angle_range=[-10, 10]))
    assert config.angle_range == (-10.0, 10.0) and config.generator == 'resampled'
    assert SoftEqConfig.from_dict(config.as_dict()) == config
    assert SoftEqConfig.from_dict(dict(group='C4', softness=0.5,
                                       generator='spectral')).generator == 'spectral'
