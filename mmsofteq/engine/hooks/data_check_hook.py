"""``mmsofteq.DataCheckHook``: a bad sample stops the run with the name of its files.

Per batch, before the model sees it (``before_{train,val,test}_iter``), for every sample:

=====================  ================================  =================================
check                  train                             val / test
=====================  ================================  =================================
label values           ``[0, num_classes)`` or the       same
                       dataset's ``ignore_index``
label map size         equals the image's (after the     -- (test pipelines load labels at
                       pipeline)                         their own size)
finite image values    float inputs only                 float inputs only
=====================  ================================  =================================

``num_classes`` is ``len(dataset.metainfo['classes'])`` of the loop's dataset (no check
without it); ``ignore_index`` the dataset's (mmseg's ``BaseSegDataset``; 255 by default), none
for classification. Labels are ``gt_sem_seg`` (mmseg) and ``gt_label`` (mmpretrain). The
checks cost a min/max per label map. Errors: ``ValueError`` naming ``img_path`` /
``seg_map_path`` (:mod:`mmsofteq.structures.sample_checks`).
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

import torch
from mmengine.hooks import Hook

from ...registry import HOOKS
from ...structures.sample_checks import (check_finite_inputs, check_label_map_size,
                                         check_labels)


def _dataset_classes(dataset: Any) -> Tuple[Optional[int], Optional[int]]:
    """``(num_classes, ignore_index)`` of a (possibly wrapped) dataset."""
    metainfo = getattr(dataset, 'metainfo', None) or {}
    classes = metainfo.get('classes')
    num_classes = len(classes) if classes else None
    ignore_index, inner = None, dataset
    for _ in range(8):  # through mmengine / mmsofteq wrappers (.dataset / .datasets[0])
        if hasattr(inner, 'ignore_index'):
            ignore_index = int(inner.ignore_index)
            break
        inner = getattr(inner, 'dataset', None) or (getattr(inner, 'datasets', None) or
                                                    [None])[0]
        if inner is None:
            break
    return num_classes, ignore_index


def _labels(sample: Any) -> Tuple[Optional[torch.Tensor], bool]:
    """``(labels, is_map)`` of a data sample."""
    if 'gt_sem_seg' in sample:
        return sample.gt_sem_seg.data, True
    if 'gt_label' in sample:
        return sample.gt_label, False
    return None, False


@HOOKS.register_module()
class DataCheckHook(Hook):
    """Refuse a batch with out-of-range labels, mis-sized label maps or non-finite images.

    Args:
        enabled: switch the checks off with ``False``.
    """

    priority = 'NORMAL'

    def __init__(self, enabled: bool = True) -> None:
        if not isinstance(enabled, bool):
            raise ValueError(f'DataCheckHook: enabled must be True or False, got {enabled!r}')
        self.enabled = enabled
        self._classes = {}

    def _classes_of(self, runner, stage: str) -> Tuple[Optional[int], Optional[int]]:
        if stage not in self._classes:
            loader = getattr(runner, f'{stage}_dataloader')
            self._classes[stage] = _dataset_classes(getattr(loader, 'dataset', None))
        return self._classes[stage]

    def _check(self, runner, stage: str, data_batch: Any) -> None:
        if not self.enabled or not isinstance(data_batch, dict):
            return
        samples = data_batch.get('data_samples') or []
        inputs = data_batch.get('inputs')
        images = list(inputs) if inputs is not None else []
        num_classes, ignore_index = self._classes_of(runner, stage)
        for index, sample in enumerate(samples):
            labels, is_map = _labels(sample)
            image = images[index] if index < len(images) else None
            if labels is not None and num_classes is not None:
                check_labels(labels, num_classes, ignore_index if is_map else None, sample)
            if stage == 'train' and is_map and isinstance(image, torch.Tensor):
                check_label_map_size(image, labels, sample)
            if isinstance(image, torch.Tensor):
                check_finite_inputs(image[None], [sample], f'the {stage} loss / metrics')

    def before_train_iter(self, runner, batch_idx: int, data_batch: Any = None) -> None:
        self._check(runner, 'train', data_batch)

    def before_val_iter(self, runner, batch_idx: int, data_batch: Any = None) -> None:
        self._check(runner, 'val', data_batch)

    def before_test_iter(self, runner, batch_idx: int, data_batch: Any = None) -> None:
        self._check(runner, 'test', data_batch)
