"""Dataset wrappers and transforms registered in the ``mmsofteq`` scope."""
from .seeded_split import SeededSplitDataset, split_indices
from .transforms import ScoreAtInputSize

__all__ = ['SeededSplitDataset', 'split_indices', 'ScoreAtInputSize']
