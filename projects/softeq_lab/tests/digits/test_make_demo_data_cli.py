"""softeq_lab.digits.make_demo_data: arguments, idempotent re-runs, refusals and exit
codes."""
from importlib import import_module
import pytest
from softeq_lab.digits.writer import read_manifest, verify_set


@pytest.fixture(scope='module')
def tool():
    return import_module('softeq_lab.digits.make_demo_data')


def _args(tmp_path, *extra):
    return ['--out', str(tmp_path / 'data' / 'demo_voc'), '--cls-out',
            str(tmp_path / 'data' / 'demo_digits_cls'), '--num-train', '5', '--num-val', '3',
            '--cls-num-train', '12', '--cls-num-val', '4', '--seed', '7', *extra]


def test_both_sets_then_nothing_to_do(tool, tmp_path, capsys):
    assert tool.main(_args(tmp_path)) == 0
    out, err = capsys.readouterr()
    assert out.count(': generated') == 2
    assert '8/8' in err and '16/16' in err  # the progress bars ran to completion
    seg = read_manifest(tmp_path / 'data' / 'demo_voc')
    cls = read_manifest(tmp_path / 'data' / 'demo_digits_cls')
    assert seg['params']['seed'] == cls['params']['seed'] == 7
    assert seg['counts'] == {'train': 5, 'val': 3} and cls['counts'] == {'train': 12, 'val': 4}
    assert verify_set(tmp_path / 'data' / 'demo_voc')[0]

    assert tool.main(_args(tmp_path, '--quiet')) == 0
    out, err = capsys.readouterr()
    assert out.count('already generated') == 2 and '/8' not in err


def test_arguments_reach_the_spec(tool, tmp_path):
    assert tool.main(_args(tmp_path, '--task', 'seg', '--size', '48', '--boundary', '0',
                           '--max-digits', '2', '--ink-fraction', '0.5', '0.6', '--quiet')) == 0
    params = read_manifest(tmp_path / 'data' / 'demo_voc')['params']
    assert (params['size'], params['boundary'], params['max_digits']) == (48, 0, 2)
    assert params['ink_fraction'] == [0.5, 0.6]
    assert not (tmp_path / 'data' / 'demo_digits_cls').exists()


@pytest.mark.parametrize('low, high', [(0.0, 0.5), (0.6, 0.5), (0.5, 0.7)])
def test_ink_fraction_outside_the_rotation_safe_range_is_refused(tool, tmp_path, low, high,
                                                                   capsys):
    with pytest.raises(SystemExit) as exit_info:
        tool.main(_args(tmp_path, '--ink-fraction', str(low), str(high)))
    assert exit_info.value.code == 2 and 'rotation-safe' in capsys.readouterr().err
    assert not (tmp_path / 'data').exists()


@pytest.mark.parametrize('threshold', ['-0.1', '1.0'])
def test_label_threshold_outside_0_1_is_refused(tool, tmp_path, threshold, capsys):
    with pytest.raises(SystemExit) as exit_info:
        tool.main(_args(tmp_path, '--threshold', threshold))
    assert exit_info.value.code == 2 and '--threshold must be in [0, 1)' in capsys.readouterr().err
    assert not (tmp_path / 'data').exists()


def test_refusals_exit_non_zero_and_write_nothing(tool, tmp_path, capsys):
    voc = tmp_path / 'VOCdevkit'
    (voc / 'VOC2012').mkdir(parents=True)
    assert tool.main(['--task', 'seg', '--out', str(voc), '--force', '--quiet']) == 1
    assert 'refusing' in capsys.readouterr().err
    assert sorted(p.name for p in voc.iterdir()) == ['VOC2012']
    same = str(tmp_path / 'x')
    assert tool.main(['--out', same, '--cls-out', same, '--quiet']) == 2
    assert tool.main(['--task', 'seg', '--out', str(tmp_path / 'y'), '--num-train', '0',
                      '--quiet']) == 1
    assert not (tmp_path / 'x').exists() and not (tmp_path / 'y').exists()
