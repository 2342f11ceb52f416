"""Projected filter kernels of a checkpoint, drawn next to the kept directions."""
