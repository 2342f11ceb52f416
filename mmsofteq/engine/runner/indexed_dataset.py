"""A dataset wrapper that writes each item's dataset index into its data sample.

Rotated evaluation keys the angle of a sample by its *dataset* index. Samplers, workers
and ranks reorder and split samples, so the index has to travel with the sample: this
wrapper sets ``data_samples.metainfo['sample_idx'] = idx`` on every item (mmpretrain's
``PackInputs`` already does the same; mmseg's ``PackSegInputs`` does not).
"""
from __future__ import annotations

from typing import Any, Union

from mmengine.registry import DATASETS
from mmengine.structures import BaseDataElement
from torch.utils.data import Dataset

from ...structures.rotated_fields import DATASET_INDEX


class IndexedDataset(Dataset):
    """Wrap ``dataset`` (an instance or a config dict) and tag items with their index.

    Every other attribute (``metainfo``, ``full_init``, ...) is forwarded to the wrapped
    dataset, so mmengine loops, evaluators and visualizers see the original dataset.
    Items must be dicts with a ``data_samples`` data element (the OpenMMLab packing).
    """

    def __init__(self, dataset: Union[dict, Dataset]) -> None:
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        self.dataset = dataset

    def full_init(self) -> None:
        """Fully initialise the wrapped dataset (mmengine's lazy init)."""
        if hasattr(self.dataset, 'full_init'):
            self.dataset.full_init()

    @property
    def metainfo(self) -> dict:
        return self.dataset.metainfo

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, idx: int) -> Any:
        item = self.dataset[idx]
        data_samples = item.get('data_samples') if isinstance(item, dict) else None
        if not isinstance(data_samples, BaseDataElement):
            raise TypeError(
                'rotated evaluation needs dataset items packed as dict(inputs=..., '
                f'data_samples=<data element>), got {type(item).__name__} '
                f'with data_samples of type {type(data_samples).__name__}')
        data_samples.set_metainfo({DATASET_INDEX: int(idx)})
        return item

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails; guard against recursion while unpickling.
        if name == 'dataset':
            raise AttributeError(name)
        return getattr(self.dataset, name)


def with_dataset_index(dataloader: Any) -> Any:
    """Return a dataloader config whose dataset is wrapped in :class:`IndexedDataset`.

    A built ``DataLoader`` is returned unchanged: its samples must then carry
    ``sample_idx`` metainfo themselves (checked when the loop runs).
    """
    if not isinstance(dataloader, dict):
        return dataloader
    dataloader = dataloader.copy()
    dataset = dataloader.get('dataset')
    if dataset is None:
        raise ValueError('the evaluation dataloader config has no "dataset"')
    already_wrapped = isinstance(dataset, IndexedDataset) or (
        isinstance(dataset, dict) and dataset.get('type') is IndexedDataset)
    if not already_wrapped:
        dataloader['dataset'] = dict(type=IndexedDataset, dataset=dataset)
    return dataloader
