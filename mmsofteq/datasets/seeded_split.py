"""``mmsofteq.SeededSplitDataset``: one part of a seeded random split of a dataset.

The paper's VOC protocol trains on 90 % of VOC's ``train`` list and selects the checkpoint on
the other 10 % (1,317 train / 147 val images), with a split drawn from the run's seed.
mmseg / mmpretrain datasets have no such split, so this wrapper takes a dataset config and
keeps one part of a seeded permutation of its indices::

    train_dataloader = dict(dataset=dict(
        type='mmsofteq.SeededSplitDataset', dataset=voc_train, fraction=0.9, part='first',
        seed=0))
    val_dataloader = dict(dataset=dict(
        type='mmsofteq.SeededSplitDataset', dataset=voc_train, fraction=0.9, part='rest',
        seed=0))

The permutation is ``numpy.random.default_rng(seed).permutation(len(dataset))``
(``generator='numpy'``, the default) or, as the authors' runs split, torch's
``random_split`` permutation ``torch.randperm(len, generator=torch.Generator().manual_seed(
seed))`` (``generator='torch'``; their seeds were 42, 420, 4200, 42000, 420000); ``'first'``
holds its first ``floor(fraction * len)`` indices, ``'rest'`` the others, so the two parts of
one seed are disjoint and cover the dataset. The kept indices are sorted (the order within a
part does not depend on the permutation), and the same seed gives the same split on every
rank and machine. ``metainfo`` is the wrapped dataset's.
"""
from __future__ import annotations

import math
from typing import Any, List, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.registry import DATASETS as ROOT_DATASETS

from ..registry import DATASETS

PARTS = ('first', 'rest')
GENERATORS = ('numpy', 'torch')


@DATASETS.register_module()
class SeededSplitDataset:
    """The ``part`` of a seeded ``fraction`` / ``1 - fraction`` split of ``dataset``.

    Args:
        dataset: the dataset, or its config (built in the current default scope).
        fraction: share of the first part, in ``(0, 1)``.
        part: ``'first'`` (``floor(fraction · N)`` samples, the paper's 1,317 of 1,464) or
            ``'rest'``.
        seed: seed of the permutation.
        generator: ``'numpy'`` (default) or ``'torch'`` (the authors' ``random_split``).
    """

    def __init__(self, dataset: Union[BaseDataset, dict], fraction: float, part: str,
                 seed: int, generator: str = 'numpy') -> None:
        if not isinstance(fraction, (int, float)) or isinstance(fraction, bool) or \
                not 0.0 < float(fraction) < 1.0:
            raise ValueError(f'SeededSplitDataset: fraction must be in (0, 1), got {fraction!r}')
        if part not in PARTS:
            raise ValueError(f'SeededSplitDataset: part must be one of {PARTS}, got {part!r}')
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError(f'SeededSplitDataset: seed must be an int, got {seed!r}')
        if generator not in GENERATORS:
            raise ValueError(f'SeededSplitDataset: generator must be one of {GENERATORS}, got '
                             f'{generator!r}')
        self.dataset = ROOT_DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.fraction, self.part, self.seed = float(fraction), part, seed
        self.indices = split_indices(len(self.dataset), self.fraction, part, seed, generator)
        if not self.indices:
            raise ValueError(f'SeededSplitDataset: part {part!r} of a {fraction} split of '
                             f'{len(self.dataset)} samples is empty')

    @property
    def metainfo(self) -> dict:
        return self.dataset.metainfo

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[self.indices[index]]

    def get_data_info(self, index: int) -> dict:
        return self.dataset.get_data_info(self.indices[index])


def split_indices(length: int, fraction: float, part: str, seed: int,
                  generator: str = 'numpy') -> List[int]:
    """Sorted indices of ``part`` of the seeded split of ``range(length)`` (module doc)."""
    if generator == 'torch':
        import torch
        permutation = torch.randperm(length, generator=torch.Generator().manual_seed(seed))
        permutation = permutation.numpy()
    else:
        permutation = np.random.default_rng(seed).permutation(length)
    # floor, as the paper's split (1,317 / 147 of 1,464); the tolerance keeps products that
    # float arithmetic puts just below an integer (0.29 * 100 = 28.999...) on it
    cut = math.floor(fraction * length + 1e-9)
    chosen = permutation[:cut] if part == 'first' else permutation[cut:]
    return sorted(int(index) for index in chosen)
