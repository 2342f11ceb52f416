"""Data contracts shared by the rotated evaluation loops and metrics, and the checks of one
data sample that name its files (``sample_checks``)."""
from . import rotated_fields, sample_checks

__all__ = ['rotated_fields', 'sample_checks']
