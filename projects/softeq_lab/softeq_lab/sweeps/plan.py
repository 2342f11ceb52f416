"""A softness sweep of one config: every run, then the CSV and the trade-off plot.

``python -m softeq_lab.sweeps.softness_sweep`` is a thin command line over :func:`run_sweep`::

    cfg = Config.fromfile('configs/segformer_softeq_voc.py')
    result = run_sweep(cfg, [0, 0.5, 0.9, 1], 'work_dirs/sweep')
    result.csv_path, result.plot_path

Everything that can be checked without training is checked before the first run: the softness
values, the config's ``softeq`` (and each swept copy of it), the rotated test evaluation.
"""
from __future__ import annotations

import os.path as osp
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

from mmengine.config import Config
from softeq_lab.csv_rows import write_csv
from softeq_lab.sweeps.results import (RUN_COLUMNS, TASK_METRICS, evaluation_task, main_metrics,
                                       plot_tradeoff)
from softeq_lab.sweeps.softness import (check_kinds, check_softness_values, run_dir_name,
                                        softeq_location, with_softness)

from mmsofteq.apis import RunRecord, check_run_dir, run_config

CSV_NAME = 'softness_sweep.csv'
PLOT_NAME = 'softness_sweep.png'


@dataclass
class SweepPlan:
    """What a sweep will run: ``(softness, run dir, config)`` per value, checked up front."""

    task: str
    work_dir: str
    runs: list  # [(softness, run_dir, Config)]


@dataclass
class SweepResult:
    """Rows (one per softness, in the order given), where the CSV and plot are, what ran."""

    task: str
    rows: list
    csv_path: str
    plot_path: str
    ran: list  # softness values computed in this call (the others were read from disk)


def plan_sweep(cfg: Config, softness_values: Iterable[Any], work_dir: str,
               kinds: Optional[Sequence[str]] = None) -> SweepPlan:
    """Check everything that needs no training and build each run's config.

    Raises ``ValueError`` for bad softness values (outside ``[0, 1]``, duplicates), unknown
    ``kinds``, a config without ``softeq`` (the message shows the keys to add) or without the
    rotated test evaluation, and a swept ``softeq`` that does not validate.
    """
    values = check_softness_values(softness_values)
    kinds = check_kinds(kinds)
    softeq_location(cfg)
    task = evaluation_task(cfg)
    if cfg.get('test_dataloader', None) is None:
        raise ValueError('a softness sweep evaluates with Runner.test(); the config has no '
                         'test_dataloader')
    runs = [(value, osp.join(work_dir, run_dir_name(value)), with_softness(cfg, value, kinds))
            for value in values]
    return SweepPlan(task=task, work_dir=work_dir, runs=runs)


def record_row(record: RunRecord, task: str, run_dir: str) -> dict:
    """One CSV row: softness, the task's metrics, the other numeric metrics, run facts."""
    metrics = record.metrics or {}
    row: dict = {'softness': record.softness}
    row.update(main_metrics(metrics, task))
    main = set(TASK_METRICS[task])
    row.update({key: value for key, value in metrics.items()
                if key.split('/')[-1] not in main and isinstance(value, float)})
    projection = record.projection or {}
    row.update({key: projection.get(key) for key in RUN_COLUMNS[:3]})
    row.update(trained=record.mode == 'train', work_dir=run_dir, checkpoint=record.checkpoint)
    return row


def run_sweep(cfg: Config, softness_values: Iterable[Any], work_dir: str, *,
              kinds: Optional[Sequence[str]] = None, train: bool = True,
              resume: bool = False, title: Optional[str] = None) -> SweepResult:
    """Run (or read back) every softness and write ``work_dir/softness_sweep.{csv,png}``.

    Args:
        cfg: a config with ``softeq`` (wrapper or hook) and the rotated test evaluation.
        softness_values: values in ``[0, 1]``, each once.
        work_dir: the sweep's folder; run ``s`` works in ``work_dir/softness_<s>``.
        kinds: sweep only these softness kinds (others keep the config's); default all.
        train: ``False`` evaluates the starting weights (``load_from`` or the model's
            ``init_cfg``) at each softness without training.
        resume: continue unfinished training runs from their latest checkpoint.
        title: plot title (default: the config's file name).
    """
    plan = plan_sweep(cfg, softness_values, work_dir, kinds)
    mode = 'train' if train else 'test'
    for softness, run_dir, run_cfg in plan.runs:  # stale folders fail before any training
        check_run_dir(run_cfg, run_dir, softness, mode)
    rows, ran = [], []
    for softness, run_dir, run_cfg in plan.runs:
        record, computed = run_config(run_cfg, run_dir, softness=softness, mode=mode,
                                      resume=resume)
        rows.append(record_row(record, plan.task, run_dir))
        if computed:
            ran.append(softness)
    csv_path = write_csv(rows, osp.join(work_dir, CSV_NAME))
    if title is None:
        title = osp.basename(cfg.filename) if cfg.filename else 'softness sweep'
        title += '' if train else ' (not trained)'
    plot_path = plot_tradeoff(rows, plan.task, osp.join(work_dir, PLOT_NAME), title=title)
    return SweepResult(task=plan.task, rows=rows, csv_path=csv_path, plot_path=plot_path,
                       ran=ran)
