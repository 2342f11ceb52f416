"""``mmsofteq.RunGuardHook`` on a minimal real ``Runner`` (``fixtures.toy_runner``): one
training per work dir, no symbolic link out of it, and the paths a resumed checkpoint names
(``best_ckpt``, ``keep_ckpt_ids``) kept only inside this run's work dir. The deletion itself,
end to end with ``save_best``: tests/security/test_run_guard.py."""
import json
import os
import socket
import subprocess
import sys

import pytest
import torch
from fixtures.toy_runner import toy_runner
from mmengine.hooks import CheckpointHook

import mmsofteq  # noqa: F401  (registers the hook)
from mmsofteq.engine.hooks import WorkDirInUseError
from mmsofteq.engine.hooks.run_guard_hook import LOCK_NAME


def _runner(work_dir, max_iters=1, save_best=None, **guard):
    return toy_runner(work_dir, max_iters, default_hooks=dict(
        run_guard=dict(type='mmsofteq.RunGuardHook', **guard),
        checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False,
                        save_best=save_best)))


def _write_lock(work_dir, host, pid):
    os.makedirs(work_dir, exist_ok=True)
    with open(os.path.join(work_dir, LOCK_NAME), 'w') as handle:
        json.dump(dict(host=host, pid=pid, started='2026-01-01 00:00:00'), handle)


def _dead_pid():
    process = subprocess.Popen([sys.executable, '-c', 'pass'])
    process.wait()
    return process.pid


def test_a_second_training_in_a_work_dir_in_use_is_refused(tmp_path):
    holder = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    try:
        _write_lock(tmp_path, socket.gethostname(), holder.pid)
        with pytest.raises(WorkDirInUseError, match=rf'another training uses this work dir: '
                                                    rf'.*{LOCK_NAME} is held by process '
                                                    rf'{holder.pid}'):
            _runner(tmp_path).train()
        assert not (tmp_path / 'iter_1.pth').exists()
    finally:
        holder.kill()


def test_a_stale_lock_is_taken_over_and_released_after_training(tmp_path, capsys):
    _write_lock(tmp_path, socket.gethostname(), _dead_pid())
    _runner(tmp_path).train()
    assert (tmp_path / 'iter_1.pth').exists()
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_lock_from_another_host_is_refused_naming_the_file(tmp_path):
    _write_lock(tmp_path, 'another-host.example', 1)
    with pytest.raises(WorkDirInUseError, match=r'another host.*delete the lock file'):
        _runner(tmp_path).train()


def test_the_lock_can_be_switched_off(tmp_path):
    _write_lock(tmp_path, 'another-host.example', 1)
    _runner(tmp_path, lock=False).train()
    assert (tmp_path / 'iter_1.pth').exists()


def test_a_symbolic_link_out_of_the_work_dir_is_refused(tmp_path):
    work_dir, victim = tmp_path / 'work', tmp_path / 'victim.txt'
    victim.write_text('keep me')
    work_dir.mkdir()
    (work_dir / 'iter_1.pth').symlink_to(victim)
    with pytest.raises(RuntimeError, match=r'holds 1 symbolic link\(s\) that lead out of it '
                                           r'\(.*iter_1\.pth -> .*victim\.txt\)'):
        _runner(work_dir).train()
    assert victim.read_text() == 'keep me'


def test_a_link_inside_the_work_dir_is_fine(tmp_path):
    (tmp_path / 'data').mkdir()
    (tmp_path / 'alias').symlink_to(tmp_path / 'data')
    _runner(tmp_path).train()


@pytest.mark.parametrize('planted', ['folder', 'file elsewhere', 'other run'])
def test_best_checkpoint_paths_from_a_loaded_checkpoint_stay_inside_the_work_dir(
        tmp_path, planted):
    first = tmp_path / 'first'
    _runner(first, save_best='auto').train()
    target = {'folder': tmp_path / 'precious', 'file elsewhere': tmp_path / 'notes.txt',
              'other run': first / 'iter_1.pth'}[planted]
    if planted == 'folder':
        target.mkdir()
    elif planted == 'file elsewhere':
        target.write_text('keep')
    checkpoint = torch.load(first / 'iter_1.pth', weights_only=False)
    info = checkpoint['message_hub']['runtime_info']
    info.update(best_ckpt=str(target), keep_ckpt_ids=['../../x'])
    crafted = tmp_path / 'crafted.pth'
    torch.save(checkpoint, crafted)
    runner = _runner(tmp_path / 'second', max_iters=2, save_best='auto')
    runner._resume, runner._load_from = True, str(crafted)
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, CheckpointHook))
    assert hook.best_ckpt_path is None
    assert 'keep_ckpt_ids' not in runner.message_hub.runtime_info or all(
        isinstance(i, int) for i in runner.message_hub.get_info('keep_ckpt_ids'))
    assert target.exists()


def test_the_own_runs_best_checkpoint_is_still_replaced(tmp_path):
    runner = _runner(tmp_path, save_best='auto')
    runner.train()
    own = tmp_path / 'iter_1.pth'
    checkpoint = torch.load(own, weights_only=False)
    checkpoint['message_hub']['runtime_info']['best_ckpt'] = str(own)
    torch.save(checkpoint, own)
    resumed = _runner(tmp_path, max_iters=2, save_best='auto')
    resumed._resume, resumed._load_from = True, str(own)
    resumed.train()
    hook = next(h for h in resumed.hooks if isinstance(h, CheckpointHook))
    assert hook.best_ckpt_path == str(own)


@pytest.mark.parametrize('key', ['lock', 'allow_softeq_change'])
def test_bad_switch_values_are_refused(key):
    from mmsofteq.engine.hooks import RunGuardHook
    with pytest.raises(ValueError, match=f'RunGuardHook: {key} must be True or False'):
        RunGuardHook(**{key: 'yes'})
