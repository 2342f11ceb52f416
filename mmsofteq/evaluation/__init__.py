"""Rotated-evaluation metrics (registered) and the per-sample statistics they reduce to.

See ``docs/evaluation.md`` for every key and formula. The rotated forward passes are run by
the loops in :mod:`mmsofteq.engine.runner`; the fields they exchange are named in
:mod:`mmsofteq.structures.rotated_fields`.
"""
from .metrics import RotatedAccuracy, RotatedIoUMetric

__all__ = ['RotatedAccuracy', 'RotatedIoUMetric']
