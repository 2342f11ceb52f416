"""What a sweep measures, and its outputs: one CSV row per softness and a trade-off plot.

The metrics are those of mmsofteq's rotated evaluation (``docs/evaluation.md``), read from the
dict ``Runner.test()`` returns:

* segmentation (``mmsofteq.RotatedIoUMetric``): ``mIoU``, ``aIoU``, ``cIoU``, ``eErr``; the plot
  shows ``mIoU`` and ``aIoU`` against ``eErr``;
* classification (``mmsofteq.RotatedAccuracy``): ``Acc``, ``aAcc``, ``cAcc``, ``iErr``; the plot
  shows ``Acc`` and ``aAcc`` against ``iErr``.
"""
from __future__ import annotations

import math
import os
import os.path as osp
from typing import Any, Mapping, Optional, Sequence

from mmsofteq.apis import is_rotated_loop_config

#: Metric (registered name) -> task; a rotated loop adds the rotated metric to the clean one.
METRIC_TASKS = {'RotatedIoUMetric': 'segmentation', 'RotatedAccuracy': 'classification',
                'IoUMetric': 'segmentation', 'Accuracy': 'classification'}
#: Task -> the metrics every row has, in column order.
TASK_METRICS = {
    'segmentation': ('mIoU', 'aIoU', 'cIoU', 'eErr'),
    'classification': ('accuracy/top1', 'rotated_accuracy/top1', 'cAcc', 'iErr'),
}
#: Task -> (quality metrics on the y axis, error metric on the x axis).
TASK_PLOTS = {
    'segmentation': (('mIoU', 'aIoU'), 'eErr'),
    'classification': (('accuracy/top1', 'rotated_accuracy/top1'), 'iErr'),
}
#: Columns of a row after the metrics.
RUN_COLUMNS = ('projected_tensors', 'kept_directions', 'total_directions', 'trained',
               'work_dir', 'checkpoint')

HOW_TO_ADD_ROTATED_EVAL = (
    "add to the config (docs/evaluation.md)\n"
    "    test_cfg = dict(type='mmsofteq.RotatedTestLoop')\n"
    "with mmseg's IoUMetric or mmpretrain's Accuracy as test_evaluator (the loop adds the "
    "rotated metric), or test_evaluator = dict(type='mmsofteq.RotatedIoUMetric') / "
    "dict(type='mmsofteq.RotatedAccuracy')")


def _type_name(value: Any) -> str:
    name = getattr(value, '__name__', value)
    return str(name).split('.')[-1]


def _metric_configs(evaluator: Any) -> list:
    if isinstance(evaluator, Mapping) and 'metrics' in evaluator:
        evaluator = evaluator['metrics']
    if isinstance(evaluator, Mapping):
        return [evaluator]
    return list(evaluator or [])


def evaluation_task(cfg: Mapping) -> str:
    """``'segmentation'`` or ``'classification'``: the task of ``cfg.test_evaluator``'s metrics.

    Raises ``ValueError`` (saying what to add) when the test loop is not mmsofteq's rotated
    loop or the test evaluator has no metric of one task: a sweep compares rotated metrics.
    """
    tasks = {METRIC_TASKS[_type_name(metric.get('type'))]
             for metric in _metric_configs(cfg.get('test_evaluator', None))
             if isinstance(metric, Mapping) and _type_name(metric.get('type')) in METRIC_TASKS}
    if not is_rotated_loop_config(cfg.get('test_cfg', None)) or len(tasks) != 1:
        raise ValueError('a softness sweep reads the rotated metrics of the test loop, but the '
                         'config has test_cfg='
                         f"{dict(cfg.get('test_cfg', None) or {})} and test_evaluator="
                         f"{cfg.get('test_evaluator', None)}; {HOW_TO_ADD_ROTATED_EVAL}")
    return tasks.pop()


def _lookup(metrics: Mapping[str, Any], name: str) -> Optional[str]:
    """The key of ``name`` in ``metrics`` (``name`` itself or ``'<prefix>/<name>'``)."""
    if name in metrics:
        return name
    found = [key for key in metrics if key.endswith('/' + name)]
    return found[0] if len(found) == 1 else None


def main_metrics(metrics: Mapping[str, Any], task: str) -> dict[str, float]:
    """``{name: value}`` of the task's metrics (``TASK_METRICS``); ``KeyError`` if one lacks."""
    out = {}
    for name in TASK_METRICS[task]:
        key = _lookup(metrics, name)
        if key is None:
            raise KeyError(f'the test metrics have no {name!r} (got {sorted(metrics)})')
        out[name] = float(metrics[key])
    return out


def plot_tradeoff(rows: Sequence[Mapping[str, Any]], task: str, path: str,
                  title: str = '') -> str:
    """Quality metrics against the equivariance error, each point labelled ``s=<softness>``.

    Rows are joined in softness order; writes a PNG to ``path`` and returns ``path``.
    """
    from matplotlib.figure import Figure  # no pyplot: no global backend or figure state
    from softeq_lab.sweeps.softness import softness_label

    qualities, error = TASK_PLOTS[task]
    rows = sorted(rows, key=lambda row: row['softness'])
    fig = Figure(figsize=(6.0, 4.5), dpi=120)
    ax = fig.subplots()
    for quality, marker in zip(qualities, ('o', 's')):
        xs = [float(row[error]) for row in rows]
        ys = [float(row[quality]) for row in rows]
        ax.plot(xs, ys, marker=marker, label=quality)
        for row, x, y in zip(rows, xs, ys):
            if math.isfinite(x) and math.isfinite(y):
                ax.annotate(f"s={softness_label(row['softness'])}", (x, y),
                            textcoords='offset points', xytext=(5, 4), fontsize=8)
    ax.set_xlabel(f'{error} (lower = more equivariant)')
    ax.set_ylabel(' / '.join(qualities) + ' (%)')
    ax.set_title(title or 'softness trade-off')
    ax.margins(x=0.15, y=0.1)  # room for the labels
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path)
    return path
