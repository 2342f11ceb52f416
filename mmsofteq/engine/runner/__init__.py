"""Rotated evaluation loops (``mmsofteq.RotatedValLoop`` / ``mmsofteq.RotatedTestLoop``)
and the pieces they are made of: the dataset index wrapper and the rotated forward pass (the
seeded per-sample angles are :mod:`mmsofteq.nn.evaluation_angles`)."""
from .indexed_dataset import IndexedDataset, with_dataset_index
from .rotated_loops import RotatedTestLoop, RotatedValLoop
from .rotated_pass import RotatedPredictionWriter

__all__ = [
    'IndexedDataset', 'with_dataset_index', 'RotatedValLoop', 'RotatedTestLoop',
    'RotatedPredictionWriter'
]
