"""Rotated evaluation loops (``mmsofteq.RotatedValLoop`` / ``mmsofteq.RotatedTestLoop``)
and the pieces they are made of: seeded per-sample angles, rotation geometry, the dataset
index wrapper and the rotated forward pass."""
from .angles import DEFAULT_ANGLES, AngleSampler, parse_angle_spec
from .indexed_dataset import IndexedDataset, with_dataset_index
from .rotated_loops import RotatedTestLoop, RotatedValLoop
from .rotated_predictions import RotatedPredictionWriter
from .rotation import (content_region, quarter_turns, rotate_field, rotate_label_map,
                       rotation_sampling_matrix, rotation_valid_mask, sampling_grid)

__all__ = [
    'AngleSampler', 'DEFAULT_ANGLES', 'parse_angle_spec', 'IndexedDataset', 'with_dataset_index',
    'RotatedValLoop', 'RotatedTestLoop', 'RotatedPredictionWriter', 'content_region',
    'quarter_turns', 'rotate_field', 'rotate_label_map', 'rotation_sampling_matrix',
    'rotation_valid_mask', 'sampling_grid'
]
