"""Offline demo data: real handwritten digits (scikit-learn ``load_digits``) composed into a
PASCAL-VOC-layout segmentation set and a class-folder classification set.

Pure numpy/PIL; no OpenMMLab import. The sets are read by unmodified mmseg ``BaseSegDataset``
and mmpretrain ``CustomDataset`` (see ``docs/demo_data.md`` for the config snippets).
"""
from .demo_digits import (DEMO_CLASSES, DEMO_CLS_CLASSES, DEMO_CLS_FOLDERS, DEMO_PALETTE,
                          DIGIT_NAMES, IGNORE_INDEX, demo_cls_metainfo, demo_seg_metainfo,
                          load_digit_scans, split_scans, voc_colormap)
from .demo_writer import (GENERATOR_VERSION, MANIFEST_NAME, ClassificationSpec,
                          SegmentationSpec, UnsafeTargetError, build_demo_set, inspect_target,
                          read_manifest, verify_set, write_classification_set,
                          write_segmentation_set)

__all__ = [
    'DEMO_CLASSES', 'DEMO_CLS_CLASSES', 'DEMO_CLS_FOLDERS', 'DEMO_PALETTE', 'DIGIT_NAMES',
    'IGNORE_INDEX', 'demo_cls_metainfo', 'demo_seg_metainfo', 'load_digit_scans', 'split_scans',
    'voc_colormap', 'GENERATOR_VERSION', 'MANIFEST_NAME', 'ClassificationSpec',
    'SegmentationSpec', 'UnsafeTargetError', 'build_demo_set', 'inspect_target',
    'read_manifest', 'verify_set', 'write_classification_set', 'write_segmentation_set'
]
