"""Rotated evaluation loops (``mmsofteq.RotatedValLoop`` / ``mmsofteq.RotatedTestLoop``)
and the pieces they are made of: seeded per-sample angles, the dataset index wrapper and
the rotated forward pass."""
from .angles import DEFAULT_ANGLES, AngleSampler, parse_angle_spec
from .indexed_dataset import IndexedDataset, with_dataset_index
from .rotated_loops import RotatedTestLoop, RotatedValLoop
from .rotated_pass import RotatedPredictionWriter

__all__ = [
    'AngleSampler', 'DEFAULT_ANGLES', 'parse_angle_spec', 'IndexedDataset', 'with_dataset_index',
    'RotatedValLoop', 'RotatedTestLoop', 'RotatedPredictionWriter'
]
