"""Crash-safe runs: train and evaluate one config with mmengine's ``Runner``, so that running
it again continues where it stopped (:func:`run_config`). Used by the experiments project
(``projects/softeq_lab``): its softness sweep (one run per softness), multi-seed runs (one run
per seed) and demo (one run per stage).

Each run lives in its own work dir (``<sweep dir>/softness_<s>``) holding mmengine's usual
files (config as run, logs, checkpoints) and ``softness_sweep.json``, a :class:`RunRecord`
rewritten atomically after each stage:

``started``  the run was begun (with the fingerprint of its config);
``trained``  ``Runner.train()`` returned; ``checkpoint`` is the checkpoint to test: the best
             one when the config's ``CheckpointHook`` has ``save_best`` (mmengine's
             ``best_<metric>_<iter|epoch>_<n>.pth``: the paper's best-val selection), else
             the last one it saved;
``done``     ``Runner.test()`` returned (on that checkpoint); ``metrics`` holds its dict.

A sweep run again over the same work dir therefore skips ``done`` runs, evaluates ``trained``
ones from their checkpoint without training again, and resumes ``started`` ones from their
latest checkpoint when asked to (``resume=True``; otherwise they start over). A record written
for a different config (other ``--cfg-options``, other values of the config file) or mode is
never reused: :class:`StaleRunError`.
"""
from __future__ import annotations

import copy
import dataclasses
import gc
import hashlib
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, Optional

import torch
from mmengine.config import Config
from mmengine.logging import print_log

from ..nn import softeq_report

RECORD_FILE = 'softness_sweep.json'
#: the test metrics of the best checkpoint, written by ``tools/train.py --test-best``
TEST_BEST_FILE = 'test_best.json'
#: ``'train'``: train, then test the trained model. ``'test'``: test the starting weights.
MODES = ('train', 'test')
#: Config keys that say where and how a run happens, not what it computes.
_RUNTIME_KEYS = ('work_dir', 'resume', 'experiment_name', 'launcher')


class StaleRunError(RuntimeError):
    """A run dir holds a record of a different config or mode."""


@dataclass
class RunRecord:
    """The state of one run, as stored in ``<run dir>/softness_sweep.json``."""

    #: the run's scalar softness (a sweep's value), or ``None``: the config's own (a per-kind
    #: dict, a seed run); records of earlier versions store NaN there, read as ``None``
    softness: Optional[float]
    fingerprint: str
    mode: str
    stage: str = 'started'
    checkpoint: Optional[str] = None
    metrics: Optional[dict] = None
    projection: dict = field(default_factory=dict)
    #: the run's seed (``randomness.seed``) for multi-seed runs, else ``None``
    seed: Optional[int] = None

    @classmethod
    def load(cls, run_dir: str) -> Optional['RunRecord']:
        path = osp.join(run_dir, RECORD_FILE)
        if not osp.isfile(path):
            return None
        with open(path, encoding='utf-8') as file:
            data = json.load(file)
        names = {f.name for f in dataclasses.fields(cls)}
        record = cls(**{key: value for key, value in data.items() if key in names})
        if record.softness is not None and record.softness != record.softness:  # NaN
            record.softness = None
        return record

    def save(self, run_dir: str) -> None:
        """Write the record atomically (a crash never leaves half a file)."""
        os.makedirs(run_dir, exist_ok=True)
        write_json(dataclasses.asdict(self), osp.join(run_dir, RECORD_FILE))


def write_json(data: Any, path: str) -> None:
    """Write ``data`` as JSON to ``path`` atomically (a crash never leaves half a file)."""
    tmp = f'{path}.tmp.{os.getpid()}'
    with open(tmp, 'w', encoding='utf-8') as file:
        json.dump(data, file, indent=2, sort_keys=True)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)


def write_test_best(work_dir: str, checkpoint: str, metrics: dict) -> str:
    """``WORK_DIR/test_best.json``: ``{"checkpoint": path, "metrics": {key: value}}``;
    returns its path."""
    path = osp.join(work_dir, TEST_BEST_FILE)
    write_json(dict(checkpoint=checkpoint, metrics=_plain_metrics(metrics)), path)
    return path


def _stable(value: Any) -> Any:
    """JSON stand-in for config values that are not JSON (classes, functions, ...)."""
    if isinstance(value, (set, frozenset)):
        return sorted(map(repr, value))
    qualname = getattr(value, '__qualname__', None)
    if qualname is not None:
        return f'{getattr(value, "__module__", "")}.{qualname}'
    return type(value).__name__


def config_fingerprint(cfg: Config) -> str:
    """SHA-256 of what a run computes: ``cfg`` without work dir / resume / experiment name."""
    data = cfg.to_dict()
    for key in _RUNTIME_KEYS:
        data.pop(key, None)
    text = json.dumps(data, sort_keys=True, default=_stable)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def projection_summary(model: Any) -> dict:
    """Counts from the model's projection report: the evidence that the softness arrived.

    ``projected_tensors``: tensors re-parameterised as ``P·θ``; ``kept_directions`` /
    ``total_directions``: directions kept with weight 1 / grid size ``k²``, summed over every
    listed tensor (identities count in full); ``applied_softness``: the softness values in the
    report.
    """
    from mmengine.model import is_model_wrapper

    if is_model_wrapper(model):
        model = model.module
    report = softeq_report(model)
    if report is None:
        return dict(projected_tensors=0, kept_directions=None, total_directions=None,
                    applied_softness=[])
    kept = total = 0
    for entry in report.projected:
        size = entry.grid_size * entry.grid_size
        total += size
        kept += size if entry.certificate is None else int(entry.certificate.kept)
    return dict(projected_tensors=report.num_projected, kept_directions=kept,
                total_directions=total,
                applied_softness=sorted({float(entry.softness) for entry in report.projected}))


def _plain_metrics(metrics: dict) -> dict:
    out = {}
    for key, value in metrics.items():
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            out[key] = str(value)
    return out


def latest_checkpoint(run_dir: str) -> Optional[str]:
    """The checkpoint named by ``run_dir/last_checkpoint`` (mmengine's ``CheckpointHook``
    writes it after each save), or ``None`` (no such file, or it names no file)."""
    from mmengine.runner import find_latest_checkpoint

    if not osp.isfile(osp.join(run_dir, 'last_checkpoint')):
        return None
    path = find_latest_checkpoint(run_dir)
    return path if path and osp.isfile(path) else None


def _log(message: str) -> None:
    print_log(f'[softness sweep] {message}', logger='current')


def _build_runner(cfg: Config, run_dir: str, name: str):
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from ..utils import prepare_runtime

    cfg = copy.deepcopy(cfg)
    cfg.work_dir = run_dir
    cfg.launcher = 'none'
    # Several Runners share this process: a distinct name keeps each one's logger and
    # visualizer (mmengine keys them by experiment name) and log file its own.
    cfg.experiment_name = name
    prepare_runtime(cfg, 'none')  # CPU-only machines: SyncBN -> BN
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def _init_weights(runner) -> None:
    """What ``Runner.train()`` does before loading: the model's own ``init_weights()``
    (``init_cfg``, e.g. ``Pretrained``); ``Runner.test()`` alone does not."""
    from mmengine.model import is_model_wrapper

    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    if hasattr(model, 'init_weights'):
        model.init_weights()


def _softness_key(softness: Optional[float]) -> Optional[float]:
    """The recorded softness: a float, or ``None`` for none (NaN, as earlier callers passed)."""
    return None if softness is None or softness != softness else float(softness)


def _run_label(softness: Optional[float], seed: Optional[int]) -> str:
    if seed is not None:
        return f'seed {seed}'
    return 'run' if softness is None else f'softness {softness:g}'


def check_run_dir(cfg: Config, run_dir: str, softness: Optional[float], mode: str,
                  seed: Optional[int] = None) -> Optional[RunRecord]:
    """The record in ``run_dir`` (``None`` if none); :class:`StaleRunError` if it was written
    for another config, softness, seed or mode."""
    if mode not in MODES:
        raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
    softness = _softness_key(softness)
    record = RunRecord.load(run_dir)
    if record is None:
        return None
    differs = [what for what, same in (
        ('config', record.fingerprint == config_fingerprint(cfg)),
        (f'mode ({record.mode!r} there, {mode!r} here)', record.mode == mode),
        (f'softness ({record.softness} there)', record.softness == softness),
        (f'seed ({record.seed} there)', record.seed == seed)) if not same]
    if differs:
        raise StaleRunError(
            f'{run_dir} holds a run (stage {record.stage!r}) of another '
            f'{" and ".join(differs)}; it is not reused. Give the run another --work-dir, '
            'or delete that folder to run it again')
    return record


def save_best_keys(cfg: Config) -> list:
    """The metrics of ``default_hooks.checkpoint.save_best`` (``[]`` when it has none)."""
    hook = (cfg.get('default_hooks', None) or {}).get('checkpoint', None) or {}
    keys = hook.get('save_best', None)
    if keys is None or keys == 'auto':
        return [] if keys is None else ['auto']
    return [keys] if isinstance(keys, str) else list(keys)


def best_checkpoint(cfg: Config, run_dir: str) -> Optional[str]:
    """The checkpoint mmengine's ``CheckpointHook(save_best=...)`` kept for the first
    ``save_best`` metric in ``run_dir`` (it deletes the previous best when it saves a new one),
    or ``None`` (no ``save_best``, or no validation ran)."""
    keys = save_best_keys(cfg)
    if not keys:
        return None
    # 'auto': mmengine names the file after the first metric of the evaluator
    prefix = 'best_' if keys[0] == 'auto' else 'best_' + keys[0].replace('/', '_') + '_'
    found = [osp.join(run_dir, name) for name in os.listdir(run_dir)
             if name.startswith(prefix) and name.endswith('.pth')] if osp.isdir(run_dir) else []
    return max(found, key=osp.getmtime) if found else None


def run_config(cfg: Config, run_dir: str, *, softness: Optional[float] = None,
               seed: Optional[int] = None, mode: str = 'train',
               resume: bool = False) -> tuple[RunRecord, bool]:
    """Train (``mode='train'``) and evaluate ``cfg`` in ``run_dir``; return (record, ran).

    ``cfg`` already carries its softness and seed; ``softness`` (a sweep's scalar value) and
    ``seed`` (a multi-seed run's) are recorded so that a run dir is never reused for another
    value; ``None``: not part of what this run varies. ``ran`` is
    ``False`` when the record on disk was ``done`` and nothing was computed. After training,
    the test runs on the best checkpoint when the config keeps one (``save_best``), else on
    the trained model. See the module docstring for the stages; raises
    :class:`StaleRunError` when ``run_dir`` holds a record of another config, seed or mode.
    """
    softness = _softness_key(softness)
    label = _run_label(softness, seed)
    record = check_run_dir(cfg, run_dir, softness, mode, seed)
    if record is not None and record.stage == 'done':
        _log(f'{label}: finished earlier, metrics read from {run_dir}')
        return record, False
    if record is None:
        record = RunRecord(softness=softness, fingerprint=config_fingerprint(cfg),
                           mode=mode, seed=seed)
        record.save(run_dir)

    runner = None
    run_name = osp.basename(osp.normpath(run_dir))
    try:
        trained_checkpoint = record.checkpoint if record.stage == 'trained' else None
        if mode == 'train' and not (trained_checkpoint and osp.isfile(trained_checkpoint)):
            run_cfg = copy.deepcopy(cfg)
            latest = latest_checkpoint(run_dir)
            if resume and latest:
                _log(f'{label}: resuming from {latest}')
                run_cfg.load_from, run_cfg.resume = latest, True
            else:
                if latest:
                    _log(f'{label}: {run_dir} has an unfinished run (latest checkpoint '
                         f'{latest}); training from the start (--resume continues it instead)')
                run_cfg.resume = False
            runner = _build_runner(run_cfg, run_dir, f'{run_name}_train')
            runner.train()
            best = best_checkpoint(cfg, run_dir)
            record.stage = 'trained'
            record.checkpoint = best or latest_checkpoint(run_dir)
            record.save(run_dir)
            if best:  # test the best checkpoint, not the last weights
                _log(f'{label}: testing the best checkpoint {best}')
                del runner
                gc.collect()
                runner = _build_runner(_test_cfg(cfg, best), run_dir, f'{run_name}_test')
        else:
            if trained_checkpoint:
                _log(f'{label}: trained earlier, evaluating {trained_checkpoint}')
            runner = _build_runner(_test_cfg(cfg, trained_checkpoint), run_dir,
                                   f'{run_name}_test')
            if not trained_checkpoint:
                _init_weights(runner)
        metrics = runner.test()
        record.projection = projection_summary(runner.model)
        record.metrics = _plain_metrics(metrics)
        record.stage = 'done'
        record.save(run_dir)
        return record, True
    finally:
        del runner
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _test_cfg(cfg: Config, checkpoint: Optional[str]) -> Config:
    """``cfg`` to test ``checkpoint`` (``None``: the config's own ``load_from``)."""
    run_cfg = copy.deepcopy(cfg)
    run_cfg.resume = False
    if checkpoint:
        run_cfg.load_from = checkpoint
    return run_cfg
