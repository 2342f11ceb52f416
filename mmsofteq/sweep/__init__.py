"""Softness sweeps: train and evaluate one config at several softness values (issue 5).

``softness`` puts a value into a config's ``softeq`` (wrapper or hook); ``runs`` trains and
evaluates one value with mmengine's ``Runner``, crash-safely; ``results`` reads the rotated
metrics and writes the CSV and the trade-off plot; ``sweep`` ties them together. The command
line is ``tools/softness_sweep.py`` (docs/evaluation.md, "Softness sweep").
"""
from .results import (TASK_METRICS, TASK_PLOTS, evaluation_task, main_metrics, plot_tradeoff,
                      write_csv)
from .runs import (RECORD_FILE, RunRecord, StaleRunError, check_run_dir,
                   config_fingerprint, projection_summary, run_softness)
from .softness import (HOW_TO_ADD_SOFTEQ, check_kinds, check_softness_values, run_dir_name,
                       softness_label, swept_softeq, with_softness)
from .sweep import (CSV_NAME, PLOT_NAME, SweepPlan, SweepResult, plan_sweep, record_row,
                    run_sweep)

__all__ = [
    'TASK_METRICS', 'TASK_PLOTS', 'evaluation_task', 'main_metrics', 'plot_tradeoff',
    'write_csv', 'RECORD_FILE', 'RunRecord', 'StaleRunError', 'check_run_dir',
    'config_fingerprint', 'projection_summary', 'run_softness', 'HOW_TO_ADD_SOFTEQ',
    'check_kinds', 'check_softness_values', 'run_dir_name', 'softness_label', 'swept_softeq',
    'with_softness', 'CSV_NAME', 'PLOT_NAME', 'SweepPlan', 'SweepResult', 'plan_sweep',
    'record_row', 'run_sweep'
]
