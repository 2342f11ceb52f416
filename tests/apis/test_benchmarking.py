"""``mmsofteq.apis.benchmarking``: the side-by-side timing the benchmarks and users share.
Hand cases: the call order of the rounds and the medians / ratios of given times."""
import pytest

from mmsofteq.apis.benchmarking import interleaved, summarise


def test_rounds_rotate_the_order_and_reverse_it_every_other_cycle():
    calls = []
    functions = {name: (lambda name=name: calls.append(name)) for name in 'ABC'}
    times = interleaved(functions, rounds=6, warmup=1)
    assert calls[:3] == ['A', 'B', 'C']  # the warm-up call of each
    rounds = [calls[3 + 3 * index:6 + 3 * index] for index in range(6)]
    assert rounds == [list('ABC'), list('BCA'), list('CAB'),
                      list('CBA'), list('ACB'), list('BAC')]
    assert all(len(times[name]['wall']) == len(times[name]['cpu']) == 6 for name in 'ABC')


def test_summary_gives_medians_and_both_ratios_to_the_base():
    times = {'Base': dict(wall=[1.0, 2.0, 3.0], cpu=[1.0, 1.0, 1.0]),
             'SoftEq': dict(wall=[2.0, 2.0, 9.0], cpu=[1.5, 1.5, 1.5])}
    rows = {row['name']: row for row in summarise(times, 'Base')}
    assert rows['Base']['ratio'] == rows['Base']['round_ratio'] == 1.0
    assert rows['SoftEq']['wall'] == 2.0 and rows['SoftEq']['cpu'] == 1.5
    assert rows['SoftEq']['ratio'] == pytest.approx(2.0 / 2.0)        # ratio of medians
    assert rows['SoftEq']['round_ratio'] == pytest.approx(2.0)        # median of 2, 1, 3
    assert rows['SoftEq']['cpu_ratio'] == pytest.approx(1.5)
