"""softeq_lab.sweeps.asymmetry_vs_softness: the knob table users can regenerate."""
from importlib import import_module
import pytest


def tool():
    return import_module('softeq_lab.sweeps.asymmetry_vs_softness')


def test_the_table_says_which_generator_keeps_the_knob_monotone(capsys, tmp_path):
    status = tool().main(['--rows', 'SO2:resampled', 'SO2:spectral', '--sizes', '3',
                          '--softness', '0', '0.8', '1', '--check-sizes', '3-4',
                          '--count', '40', '--out', str(tmp_path / 'curve.png')])
    out = capsys.readouterr().out
    assert status == 0
    rows = {line.split()[1]: line.split() for line in out.splitlines()
            if line.startswith('SO2')}
    # resampled: 0 % at softness 0 (the constant kernel), below the unprojected value at 0.8
    resampled = rows['resampled']
    assert resampled[3] == '0%' and int(resampled[4][:-1]) < int(resampled[5][:-1])
    assert resampled[-2:] == ['yes', 'yes']
    assert 'no' in rows['spectral']           # the 0.1 default fails on 3x3 kernels
    assert (tmp_path / 'curve.png').stat().st_size > 1000


@pytest.mark.parametrize('argv, message', [
    (['--rows', 'SO2'], 'GROUP:GENERATOR'),
    (['--softness', '1.5'], 'must lie in'),
    (['--check-sizes', 'x-y'], '--check-sizes takes'),
])
def test_bad_arguments_are_refused(capsys, argv, message):
    with pytest.raises(SystemExit):
        tool().parse_args(argv)
    assert message in capsys.readouterr().err
