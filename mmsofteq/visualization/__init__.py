"""Figures: clean vs rotated predictions with the eErr map (``tools/run_demo.py``) and
projected kernels per softness (``tools/visualize_filters.py``, the paper's Fig. 1).

* :mod:`.kernels` (numpy only): project a ``k x k`` kernel at several softness values;
  sample kernels (a real digit scan, random) or slices of a checkpoint's conv weight.
* :mod:`.rotated_examples`: the clean and rotated predictions of a few evaluation images,
  computed by the rotated evaluation's own pass, and the per-pixel eErr map.
* :mod:`.figures`: the PNGs (matplotlib, Agg).
"""
from .figures import (colorize_labels, draw_classification_examples, draw_projected_kernels,
                      draw_segmentation_examples)
from .kernels import (KERNEL_SOURCES, ProjectedKernel, checkpoint_kernels, digit_kernel,
                      project_kernel, random_kernel, sample_kernels)
from .rotated_examples import (ClassificationExample, SegmentationExample,
                               collect_rotated_examples, pixel_kl_map)

__all__ = [
    'colorize_labels', 'draw_classification_examples', 'draw_projected_kernels',
    'draw_segmentation_examples', 'KERNEL_SOURCES', 'ProjectedKernel', 'checkpoint_kernels',
    'digit_kernel', 'project_kernel', 'random_kernel', 'sample_kernels',
    'ClassificationExample', 'SegmentationExample', 'collect_rotated_examples', 'pixel_kl_map'
]
