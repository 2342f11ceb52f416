"""What a training checkpoint records so that ``--resume`` continues the same run.

mmengine 0.10.7 resumes whatever checkpoint it is given: with another ``softeq`` (group,
softness, ...) than the one that wrote it, without a word, and from a checkpoint written just
before a validation that a signal then interrupted (the resumed loop starts after that point,
so that validation never exists). :class:`~.run_guard_hook.RunGuardHook` uses these helpers:

==============================  ===============================================================
record                          what
==============================  ===============================================================
``meta['mmsofteq_softeq']``     the ``softeq`` of every injected module (``SoftEqConfig.
                                as_dict()``, sorted), ``[]`` for a plain model
``meta['mmsofteq_run_id']``     the run's id (kept across resumes)
``<work_dir>/.mmsofteq_         one JSON line per completed validation during training:
validations.jsonl``             ``{"run_id", "epoch", "iter"}``
==============================  ===============================================================
"""
from __future__ import annotations

import json
import os.path as osp
from typing import Any, List, Optional

from mmengine.model import is_model_wrapper
from torch import nn

META_SOFTEQ = 'mmsofteq_softeq'
META_RUN_ID = 'mmsofteq_run_id'
VALIDATIONS_FILE = '.mmsofteq_validations.jsonl'


def model_softeq(model: nn.Module) -> List[dict]:
    """The ``softeq`` settings of every injected module of ``model`` (wrappers looked
    through), each as ``SoftEqConfig.as_dict()``, in a canonical order; ``[]`` if plain."""
    from ...nn.injection import softeq_config
    inner = model.module if is_model_wrapper(model) else model
    configs = [softeq_config(module) for module in inner.modules()]
    found = [config.as_dict() for config in configs if config is not None]
    return sorted(found, key=lambda item: json.dumps(item, sort_keys=True, default=str))


def describe_softeq(settings: Optional[List[dict]]) -> str:
    """One line for messages: ``'plain model'`` or the group/softness/generator per module."""
    if not settings:
        return 'plain model (no softeq)'
    return '; '.join(f"group={item.get('group')} softness={item.get('softness')} "
                     f"generator={item.get('generator')} cutoff={item.get('cutoff')}"
                     for item in settings)


def training_position(runner) -> tuple[str, int]:
    """``('epoch', runner.epoch)`` for epoch-based training, else ``('iter', runner.iter)``:
    the count a checkpoint's meta and the validation after it share."""
    from mmengine.runner import EpochBasedTrainLoop
    by_epoch = isinstance(runner.train_loop, EpochBasedTrainLoop)
    return ('epoch', int(runner.epoch)) if by_epoch else ('iter', int(runner.iter))


def validation_due_at(runner, unit: str, position: int) -> bool:
    """Does the train loop validate right after reaching ``position`` (its val rule)?"""
    loop = runner.train_loop
    if getattr(runner, '_val_loop', None) is None or position <= 0:
        return False
    interval = int(getattr(loop, 'val_interval', 1) or 1)
    begin = int(getattr(loop, 'val_begin', 1) or 1)
    last = getattr(loop, 'max_epochs' if unit == 'epoch' else 'max_iters', None)
    return position >= begin and (position % interval == 0 or position == last)


def validations_path(work_dir: str) -> str:
    return osp.join(work_dir, VALIDATIONS_FILE)


def record_validation(work_dir: str, run_id: str, epoch: int, iteration: int) -> None:
    """Append one completed validation to the work dir's record."""
    with open(validations_path(work_dir), 'a') as handle:
        handle.write(json.dumps(dict(run_id=run_id, epoch=epoch, iter=iteration)) + '\n')


def validation_recorded(work_dir: str, run_id: Any, unit: str, position: int) -> bool:
    """Is there a record of ``run_id``'s validation at ``unit == position``?"""
    try:
        with open(validations_path(work_dir)) as handle:
            lines = handle.read().splitlines()
    except OSError:
        return False
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get('run_id') == run_id and \
                entry.get(unit) == position:
            return True
    return False
