"""Registered rotated-evaluation metrics (``mmsofteq.RotatedIoUMetric``,
``mmsofteq.RotatedAccuracy``)."""
from .rotated_accuracy import RotatedAccuracy
from .rotated_iou_metric import RotatedIoUMetric

__all__ = ['RotatedAccuracy', 'RotatedIoUMetric']
