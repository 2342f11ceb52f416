"""Rotation evaluation: registered metrics and the command-line angle override.

See ``docs/evaluation.md`` for every key and formula. The rotated forward passes are run
by the loops in :mod:`mmsofteq.engine.runner`.
"""
from .angle_override import apply_angle_override, is_rotated_loop_config
from .metrics import RotatedAccuracy, RotatedIoUMetric

__all__ = ['RotatedAccuracy', 'RotatedIoUMetric', 'apply_angle_override', 'is_rotated_loop_config']
