"""``mmsofteq.FiniteCheckHook`` method by method, on a minimal real mmengine ``Runner``
(``fixtures.toy_runner``: a conv + BatchNorm + linear model, a second per test): every place a
non-finite value can enter is checked, not only the defaults the end-to-end tests run.

* the loaded checkpoint's optimizer state (``--resume`` of a run whose Adam moments went NaN);
* a BatchNorm ``running_var`` buffer (a buffer, not a parameter);
* the training loss with ``interval=2``: iteration 2 and the last iteration (3 of 3), whose
  weights the final checkpoint saves, but not iteration 1.
"""
import pytest
import torch
from fixtures.toy_runner import toy_runner

from mmsofteq.engine.hooks import FiniteCheckHook


def _runner(tmp_path, max_iters=3, **hook):
    return toy_runner(tmp_path, max_iters, default_hooks=dict(
        finite_check=dict(type='mmsofteq.FiniteCheckHook', **hook)))


def test_nan_in_the_resumed_optimizer_state_is_refused(tmp_path):
    _runner(tmp_path / 'first', max_iters=1).train()
    path = tmp_path / 'first' / 'iter_1.pth'
    checkpoint = torch.load(path, weights_only=False)
    state = checkpoint['optimizer']['state']
    key = sorted(state)[0]
    state[key]['exp_avg_sq'].view(-1)[0] = float('nan')
    torch.save(checkpoint, path)
    runner = _runner(tmp_path / 'resumed', max_iters=2)
    runner._resume, runner._load_from = True, str(path)
    with pytest.raises(FloatingPointError,
                       match=rf'optimizer\.state\.{key}\.exp_avg_sq has 1 NaN and 0 Inf'):
        runner.train()


def test_nan_in_a_batchnorm_running_var_stops_the_run_before_training(tmp_path):
    runner = _runner(tmp_path)
    with torch.no_grad():
        runner.model.bn.running_var[1] = float('nan')
    with pytest.raises(FloatingPointError, match=r'before training: bn\.running_var has 1 NaN'):
        runner.train()


@pytest.mark.parametrize('poison_at, caught', [(1, False), (2, True), (3, True)])
def test_interval_two_checks_every_second_and_the_last_iteration(tmp_path, poison_at, caught):
    runner = _runner(tmp_path, interval=2)
    runner.model.poison_at = poison_at
    if caught:
        with pytest.raises(FloatingPointError,
                           match=rf'the training loss is nan at iteration {poison_at} '):
            runner.train()
    else:  # iteration 1 is between checks; the NaN it caused is caught later (weights)
        with pytest.raises(FloatingPointError, match='the training loss is nan at iteration 2'):
            runner.train()


def test_the_hook_runs_after_every_hook_that_loads_or_changes_weights(tmp_path):
    runner = _runner(tmp_path)
    names = [type(hook).__name__ for hook in runner.hooks]
    assert names[-1] == 'FiniteCheckHook' and FiniteCheckHook.priority == 'VERY_LOW'
