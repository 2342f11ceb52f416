"""``mmsofteq.SeededSplitDataset``: the paper's seeded 90/10 split of VOC train, built through
the registry around a real mmseg dataset."""
import numpy as np
import pytest
from fixtures import make_tiny_voc
from mmengine.registry import DATASETS, init_default_scope

import mmsofteq  # noqa: F401  (registers the wrapper)
from mmsofteq.datasets import SeededSplitDataset, split_indices


def voc_cfg(root):
    return dict(type='BaseSegDataset', data_root=root, img_suffix='.jpg', seg_map_suffix='.png',
                data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
                ann_file='ImageSets/Segmentation/train.txt',
                metainfo=dict(classes=('a', 'b', 'c', 'd')), pipeline=[])


def test_split_matches_a_numpy_permutation_and_the_parts_partition_the_dataset():
    permutation = np.random.default_rng(7).permutation(20)
    assert split_indices(20, 0.9, 'first', 7) == sorted(permutation[:18].tolist())
    assert split_indices(20, 0.9, 'rest', 7) == sorted(permutation[18:].tolist())
    # the paper's VOC split: 1,317 train / 147 val of 1,464 (floor(0.9 * 1464))
    assert len(split_indices(1464, 0.9, 'first', 0)) == 1317
    assert len(split_indices(1464, 0.9, 'rest', 0)) == 147
    assert len(split_indices(50000, 0.8, 'first', 0)) == 40000  # CIFAR 80 / 20
    assert len(split_indices(100, 0.29, 'first', 0)) == 29  # not 28 (0.29 * 100 = 28.99...)
    assert split_indices(20, 0.9, 'first', 7) != split_indices(20, 0.9, 'first', 8)


def test_wrapper_around_a_real_mmseg_dataset(tmp_path):
    root = make_tiny_voc(tmp_path / 'voc', num_images=10, size=32, num_classes=4)
    init_default_scope('mmseg')
    first = DATASETS.build(dict(type='mmsofteq.SeededSplitDataset', dataset=voc_cfg(root),
                                fraction=0.7, part='first', seed=3))
    rest = DATASETS.build(dict(type='mmsofteq.SeededSplitDataset', dataset=voc_cfg(root),
                               fraction=0.7, part='rest', seed=3))
    whole = DATASETS.build(voc_cfg(root))
    names = [info['img_path'] for info in
             (whole.get_data_info(i) for i in range(len(whole)))]
    first_names = [first[i]['img_path'] for i in range(len(first))]
    rest_names = [rest.get_data_info(i)['img_path'] for i in range(len(rest))]
    assert len(first) + len(rest) == len(whole) == len(names)
    assert sorted(first_names + rest_names) == sorted(names)
    assert not set(first_names) & set(rest_names)
    assert first.metainfo['classes'] == ('a', 'b', 'c', 'd')


@pytest.mark.parametrize('kwargs, message', [
    (dict(fraction=1.0, part='first', seed=0), r'fraction must be in \(0, 1\)'),
    (dict(fraction=0.5, part='train', seed=0), "part must be one of"),
    (dict(fraction=0.5, part='first', seed='0'), 'seed must be an int'),
    (dict(fraction=0.01, part='first', seed=0), 'is empty'),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SeededSplitDataset(dataset=list(range(10)), **kwargs)


def test_the_authors_split_is_torchs_random_split():
    """generator='torch': the parts torch's own random_split gives with the authors' seeds and
    integer lengths (1,317 / 147 of VOC's 1,464)."""
    import torch
    from torch.utils.data import random_split
    for seed in (42, 420, 4200, 42000, 420000):
        first, rest = random_split(range(1464), [1317, 147],
                                   generator=torch.Generator().manual_seed(seed))
        assert split_indices(1464, 0.9, 'first', seed, 'torch') == sorted(first.indices)
        assert split_indices(1464, 0.9, 'rest', seed, 'torch') == sorted(rest.indices)


def test_an_unknown_generator_is_refused():
    with pytest.raises(ValueError, match="generator must be one of"):
        SeededSplitDataset(dataset=list(range(10)), fraction=0.5, part='first', seed=0,
                           generator='python')
