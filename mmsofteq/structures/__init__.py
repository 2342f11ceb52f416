"""Data contracts shared by the rotated evaluation loops and metrics (no logic)."""
from . import rotated_fields

__all__ = ['rotated_fields']
