"""``mmsofteq.RunGuardHook``: a run writes and deletes inside its own work dir, one run at a time.

mmengine 0.10.7 trusts what a resumed checkpoint says about the file system and does not
keep two runs apart:

* ``CheckpointHook(save_best=...)`` deletes the previous best checkpoint at the first better
  validation, at the path it reads from the loaded ``message_hub`` (``runtime_info
  ['best_ckpt']`` / ``['best_ckpt_<key>']``), with ``rmtree`` if that path is a folder. A crafted
  checkpoint names any folder; resuming run A's checkpoint in a new work dir deletes run A's
  best checkpoint. ``keep_ckpt_ids`` from the same place decide which ``iter_<id>.pth`` files
  ``max_keep_ckpts`` removes.
* A symbolic link planted in a work dir (``iter_2.pth`` -> a file elsewhere) is followed when
  mmengine writes there.
* Two trainings started in one work dir both run and interleave their checkpoints and logs.
* ``--resume`` accepts a checkpoint written with another ``softeq`` (group, softness, ...),
  and a validation interrupted by a signal is lost: the resumed loop starts after it.

This hook, shipped in mmsofteq's configs (``default_hooks.run_guard``) and added by mmsofteq's
tools to any config that does not switch it off (``default_hooks.run_guard=None``):

* ``before_run``: refuses a work dir holding a symbolic link that resolves outside it (naming
  the link and its target); a link made during the run is out of scope;
* ``before_train``: takes the work dir's lock, ``<work_dir>/.mmsofteq_train.lock`` (host, pid,
  start time; rank 0 only). A lock held by a live process refuses the run, naming it. A lock is
  stale, and taken over with a warning, when its process is gone on this host (or is this
  process, whose earlier training stopped with an exception); a lock from
  another host cannot be checked and refuses the run, naming the file to delete if no run uses
  the directory. Released after training (and at exit);
* ``before_train`` (ahead of the ``CheckpointHook``, which reads them there): drops the loaded
  ``best_ckpt*`` paths that are not files inside this run's checkpoint folder and the
  ``keep_ckpt_ids`` that are not integers, each with a warning naming it;
* ``before_save_checkpoint``: records the model's ``softeq`` and the run's id in the
  checkpoint's ``meta`` (:mod:`.resume_state`); ``after_val``: records each completed
  validation in ``<work_dir>/.mmsofteq_validations.jsonl``;
* ``after_load_checkpoint`` on ``--resume``: refuses a checkpoint whose recorded ``softeq``
  differs from the model's (``allow_softeq_change=True`` lets it through with a warning);
* the first ``before_train_epoch`` after ``--resume``: if the checkpoint was written right
  before a validation (the train loop's ``val_interval`` / ``val_begin`` rule) and the work
  dir has no record that it completed, runs that validation, as the interrupted run would
  have, before training goes on. A checkpoint from another work dir has no record there: its
  validation is run again.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import os.path as osp
import socket
import time
import uuid
from typing import Iterator, List, Optional, Tuple

from mmengine.dist import broadcast_object_list, get_world_size, is_main_process
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log

from ...registry import HOOKS
from .resume_state import (META_RUN_ID, META_SOFTEQ, describe_softeq, model_softeq,
                           record_validation, training_position, validation_due_at,
                           validation_recorded, validations_path)

LOCK_NAME = '.mmsofteq_train.lock'
OFF_SWITCH = 'default_hooks.run_guard=None'


class WorkDirInUseError(RuntimeError):
    """Another run holds the work dir's lock."""


def _inside(path: str, root: str) -> bool:
    real, base = osp.realpath(path), osp.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def escaping_links(work_dir: str) -> Iterator[Tuple[str, str]]:
    """``(link, resolved target)`` for every symbolic link under ``work_dir`` (links are not
    followed while walking) whose target resolves outside ``work_dir``."""
    for folder, dirs, files in os.walk(work_dir):
        for name in dirs + files:
            path = osp.join(folder, name)
            if osp.islink(path) and not _inside(path, work_dir):
                yield path, osp.realpath(path)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


@HOOKS.register_module()
class RunGuardHook(Hook):
    """Keep a run's writes and deletions inside its work dir; one training per work dir.

    Args:
        lock: take the work dir's lock for training.
        allow_softeq_change: let ``--resume`` continue with another ``softeq`` than the
            checkpoint's (a warning instead of an error).
    """

    priority = 'VERY_HIGH'  # before_train ahead of CheckpointHook (VERY_LOW)

    def __init__(self, lock: bool = True, allow_softeq_change: bool = False) -> None:
        for name, value in (('lock', lock), ('allow_softeq_change', allow_softeq_change)):
            if not isinstance(value, bool):
                raise ValueError(f'RunGuardHook: {name} must be True or False, got {value!r}')
        self.lock = lock
        self.allow_softeq_change = allow_softeq_change
        self._lock_path: Optional[str] = None
        self.run_id = uuid.uuid4().hex
        self._resumed = False
        self._training = False

    # ---- symbolic links -----------------------------------------------------------------
    def before_run(self, runner) -> None:
        links = list(escaping_links(runner.work_dir))
        if links:
            shown = '; '.join(f'{link} -> {target}' for link, target in links[:3])
            raise RuntimeError(
                f'the work dir {runner.work_dir} holds {len(links)} symbolic link(s) that lead '
                f'out of it ({shown}): mmengine would write checkpoints and logs through them. '
                'Remove them or use another --work-dir.')

    # ---- the lock -----------------------------------------------------------------------
    def before_train(self, runner) -> None:
        if self.lock and is_main_process():
            self._acquire(runner.work_dir)
        self._sanitise_runtime_info(runner)
        self._training = True

    def after_train(self, runner) -> None:
        self._training = False
        self._release()

    def _acquire(self, work_dir: str) -> None:
        path = osp.join(work_dir, LOCK_NAME)
        record = dict(host=socket.gethostname(), pid=os.getpid(),
                      started=time.strftime('%Y-%m-%d %H:%M:%S'))
        for _ in range(2):
            try:
                descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._handle_existing_lock(path)
                continue
            with os.fdopen(descriptor, 'w') as handle:
                json.dump(record, handle)
            self._lock_path = path
            atexit.register(self._release)
            return
        raise WorkDirInUseError(f'could not take the lock {path}')

    @staticmethod
    def _handle_existing_lock(path: str) -> None:
        try:
            with open(path) as handle:
                holder = json.load(handle)
            host, pid = str(holder['host']), int(holder['pid'])
        except (OSError, ValueError, KeyError, TypeError):
            holder, host, pid = {}, None, None
        # this process's own lock: an earlier training in it stopped with an exception
        # (mmengine calls no hook then); a process trains one model at a time
        own = pid == os.getpid()
        if host == socket.gethostname() and pid is not None and (own or not _pid_alive(pid)):
            state = 'this process, whose earlier training stopped' if own else 'is gone'
            print_log(f'RunGuardHook: taking over the stale lock {path} (process {pid} on '
                      f'{host}, started {holder.get("started")}: {state})', logger='current',
                      level=logging.WARNING)
            os.remove(path)
            return
        who = (f'process {pid} on {host}, started {holder.get("started")}' if pid is not None
               else 'an unreadable lock')
        where = ('' if host == socket.gethostname() else
                 ' It was taken on another host, so this one cannot tell whether that run is '
                 'still going; if no run uses this work dir, delete the lock file.')
        raise WorkDirInUseError(
            f'another training uses this work dir: {path} is held by {who}.{where} Use another '
            f'--work-dir, or wait for that run to end (switch the guard off with '
            f'--cfg-options {OFF_SWITCH}).')

    def _release(self) -> None:
        path, self._lock_path = self._lock_path, None
        if path is not None:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass

    # ---- paths a resumed checkpoint brings ------------------------------------------------
    @staticmethod
    def _checkpoint_folders(runner) -> List[str]:
        """Where this run's CheckpointHooks write (their ``out_dir`` rule)."""
        folders = [runner.work_dir]
        for hook in runner.hooks:
            if isinstance(hook, CheckpointHook) and hook.out_dir not in (None, runner.work_dir):
                folders.append(osp.join(str(hook.out_dir),
                                        osp.basename(runner.work_dir.rstrip(os.sep))))
        return folders

    def _sanitise_runtime_info(self, runner) -> None:
        info = runner.message_hub.runtime_info
        folders = self._checkpoint_folders(runner)
        for key in [key for key in info if key == 'best_ckpt' or key.startswith('best_ckpt_')]:
            path = info[key]
            safe = (isinstance(path, str) and osp.isfile(path) and not osp.islink(path) and
                    any(_inside(path, folder) for folder in folders))
            if path is not None and not safe:
                info.pop(key)
                print_log(f'RunGuardHook: ignoring {key}={path!r} from the loaded checkpoint: '
                          'not a checkpoint file of this run\'s work dir, so it will not be '
                          'deleted when a better one is saved', logger='current',
                          level=logging.WARNING)
        ids = info.get('keep_ckpt_ids')
        if ids is not None and not (isinstance(ids, list) and all(
                isinstance(i, int) and not isinstance(i, bool) for i in ids)):
            info.pop('keep_ckpt_ids')
            print_log(f'RunGuardHook: ignoring keep_ckpt_ids={ids!r} from the loaded '
                      'checkpoint (not a list of iteration numbers)', logger='current',
                      level=logging.WARNING)

    # ---- what a checkpoint records for --resume ---------------------------------------------
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.setdefault('meta', {})
        meta[META_SOFTEQ] = model_softeq(runner.model)
        meta[META_RUN_ID] = self.run_id

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not getattr(runner, '_resume', False) or not isinstance(checkpoint, dict):
            return  # load_from / test: a new run may change softeq (fine-tuning)
        meta = checkpoint.get('meta') or {}
        self._resumed = True
        if isinstance(meta.get(META_RUN_ID), str):
            self.run_id = meta[META_RUN_ID]  # the resumed run keeps its id
        if META_SOFTEQ not in meta:
            print_log('RunGuardHook: the checkpoint records no softeq (written without '
                      'mmsofteq.RunGuardHook); cannot check that --resume keeps it',
                      logger='current', level=logging.WARNING)
            return
        saved, current = meta[META_SOFTEQ], model_softeq(runner.model)
        if saved == current:
            return
        message = (f'--resume with another softeq than the checkpoint\'s: it was written by '
                   f'[{describe_softeq(saved)}], this run builds [{describe_softeq(current)}]')
        if not self.allow_softeq_change:
            raise RuntimeError(
                f'{message}. Resuming would continue the optimiser state of one model on '
                'another. Resume with the original softeq, start a new run from these weights '
                'with load_from (no --resume), or pass --cfg-options '
                'default_hooks.run_guard.allow_softeq_change=True to resume anyway.')
        print_log(f'RunGuardHook: {message} (allowed by allow_softeq_change=True)',
                  logger='current', level=logging.WARNING)

    # ---- validations interrupted by a signal ------------------------------------------------
    def after_val(self, runner) -> None:
        if self._training and is_main_process():
            record_validation(runner.work_dir, self.run_id, int(runner.epoch), int(runner.iter))

    def before_train_epoch(self, runner) -> None:
        if not self._resumed:
            return
        self._resumed = False  # only the first epoch after --resume
        unit, position = training_position(runner)
        due = validation_due_at(runner, unit, position)
        missing = [due and is_main_process() and not validation_recorded(
            runner.work_dir, self.run_id, unit, position)]
        if get_world_size() > 1:
            broadcast_object_list(missing)
        if missing[0]:
            record = validations_path(runner.work_dir)
            print_log(f'RunGuardHook: the checkpoint was written at {unit} {position}, right '
                      f'before a validation that did not complete ({record} has no record of '
                      'it); running it now', logger='current', level=logging.WARNING)
            runner.val_loop.run()
            runner.model.train()
