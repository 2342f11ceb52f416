"""``mmsofteq.FiniteCheckHook`` method by method, on a minimal real mmengine ``Runner``
(``fixtures.toy_runner``: a conv + BatchNorm + linear model, a second per test): every place a
non-finite value can enter is checked, not only the defaults the end-to-end tests run.

* the loaded checkpoint's optimizer state (``--resume`` of a run whose Adam moments went NaN);
* a BatchNorm ``running_var`` buffer (a buffer, not a parameter);
* the training loss with ``interval=2``: iteration 2 and the last iteration (3 of 3), whose
  weights the final checkpoint saves, but not iteration 1.
"""
import os

import pytest
import torch
from fixtures.toy_runner import toy_runner
from mmengine.hooks import Hook

import mmsofteq  # noqa: F401  (registers the hook)


def _runner(tmp_path, max_iters=3, custom_hooks=(), max_keep_ckpts=-1, **hook):
    return toy_runner(tmp_path, max_iters, custom_hooks=custom_hooks, default_hooks=dict(
        finite_check=dict(type='mmsofteq.FiniteCheckHook', **hook),
        checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False,
                        max_keep_ckpts=max_keep_ckpts)))


class _InfWeightAt(Hook):
    """Sets one head weight to Inf after iteration ``at`` (its loss was finite)."""

    def __init__(self, at):
        self.at = at

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.at:
            with torch.no_grad():
                runner.model.head.weight[0, 0] = float('inf')


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
    else:  # iteration 1's loss is between checks; the NaN weights it made are not saved
        with pytest.raises(FloatingPointError, match=r'non-finite weights at iteration 1, '
                                                     r'before saving a checkpoint'):
            runner.train()


def _checkpoints(work_dir):
    return sorted(name for name in os.listdir(work_dir) if name.endswith('.pth'))


def test_a_nan_loss_stops_before_the_checkpoint_of_its_iteration_and_keeps_the_last(tmp_path):
    """With ``max_keep_ckpts=1`` mmengine deletes the previous checkpoint before writing the
    next: the check runs first, so iteration 1's checkpoint stays and is the last one."""
    runner = _runner(tmp_path, max_keep_ckpts=1)
    runner.model.poison_at = 2
    with pytest.raises(FloatingPointError, match='the training loss is nan at iteration 2'):
        runner.train()
    assert _checkpoints(tmp_path) == ['iter_1.pth']
    with open(tmp_path / 'last_checkpoint') as handle:
        assert handle.read().strip().endswith('iter_1.pth')


@pytest.mark.parametrize('priority', ['NORMAL', 'BELOW_NORMAL'])
def test_non_finite_weights_after_a_finite_loss_are_never_saved(tmp_path, priority):
    runner = _runner(tmp_path, max_keep_ckpts=1,
                     custom_hooks=[dict(type=_InfWeightAt, at=2, priority=priority)])
    with pytest.raises(FloatingPointError, match=r'at iteration 2, before saving a checkpoint: '
                                                 r'head\.weight has 0 NaN and 1 Inf'):
        runner.train()
    assert _checkpoints(tmp_path) == ['iter_1.pth']


def test_no_checkpoint_with_non_finite_values_is_written_by_any_save(tmp_path):
    runner = _runner(tmp_path, max_iters=1)
    runner.train()
    with torch.no_grad():
        runner.model.bn.running_mean[0] = float('nan')
    with pytest.raises(FloatingPointError, match=r'refusing to write a checkpoint .*'
                                                 r'state_dict\.bn\.running_mean has 1 NaN'):
        runner.save_checkpoint(str(tmp_path), 'manual.pth')
    assert not (tmp_path / 'manual.pth').exists()


def test_the_hook_runs_after_the_hooks_that_change_weights_and_before_saving(tmp_path):
    runner = _runner(tmp_path, custom_hooks=[dict(type='EMAHook')])
    names = [type(hook).__name__ for hook in runner.hooks]
    assert names.index('EMAHook') < names.index('FiniteCheckHook') < names.index(
        'CheckpointHook')
