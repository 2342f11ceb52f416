"""Dataset wrappers and transforms registered in the ``mmsofteq`` scope."""
from .seeded_split import SeededSplitDataset, split_indices
from .transforms import ColorJitter, ScoreAtInputSize, adjust_hue

__all__ = ['SeededSplitDataset', 'split_indices', 'ScoreAtInputSize', 'ColorJitter', 'adjust_hue']
