"""Small, self-contained experiments on real data (torch + numpy + scikit-learn; no OpenMMLab).

* :mod:`mmsofteq.experiments.tunability`: softness sweep of a network whose first layer is a
  soft-invariant linear map on the flattened pixel grid, trained from scratch on scikit-learn's
  handwritten digits (issue 6; CLI ``tools/tunability_experiment.py``).
"""
from .tunability import (DIAGNOSTIC_TABLE, MAIN_TABLE, METRIC_COLUMNS, RUN_COLUMNS,
                         DigitCanvases, EvaluationSet, SoftInvariantLinear, SweepConfig,
                         TunabilityNet, accuracy, consistency_accuracy, evaluation_angles,
                         invariance_error, load_digit_canvases, markdown_table, plot_summary,
                         rotate_images, run_one, run_sweep, summarise, write_csv)

__all__ = [
    'DIAGNOSTIC_TABLE', 'MAIN_TABLE', 'METRIC_COLUMNS', 'RUN_COLUMNS', 'DigitCanvases',
    'EvaluationSet', 'SoftInvariantLinear', 'SweepConfig', 'TunabilityNet', 'accuracy',
    'consistency_accuracy', 'evaluation_angles', 'invariance_error', 'load_digit_canvases',
    'markdown_table', 'plot_summary', 'rotate_images', 'run_one', 'run_sweep', 'summarise',
    'write_csv'
]
