"""The demo sets load through unmodified mmseg / mmpretrain datasets and pipelines."""
import glob
import os.path as osp

from softeq_lab.digits.scans import load_digit_scans
import numpy as np
import pytest
from softeq_lab.digits.render import (DEMO_CLASSES, DEMO_CLS_CLASSES, DEMO_PALETTE,
                                      demo_cls_metainfo, demo_seg_metainfo, voc_colormap)
from fixtures.tools import REPO
from mmengine.registry import DefaultScope
from PIL import Image


@pytest.fixture(scope='module')
def mmseg_datasets():
    from mmseg.registry import DATASETS
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    return DATASETS


@pytest.fixture(scope='module')
def mmpretrain_datasets():
    from mmpretrain.registry import DATASETS
    from mmpretrain.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    return DATASETS


def _voc_cfg(root, split, **overrides):
    """The dataset dict docs/demo_data.md tells configs to use."""
    cfg = dict(type='BaseSegDataset', data_root=str(root),
               ann_file=f'ImageSets/Segmentation/{split}.txt',
               data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
               img_suffix='.jpg', seg_map_suffix='.png', reduce_zero_label=False,
               metainfo=demo_seg_metainfo(),
               pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                         dict(type='PackSegInputs')])
    cfg.update(overrides)
    return cfg


def test_demo_palette_is_the_head_of_mmsegs_voc_palette(mmseg_datasets):
    voc = mmseg_datasets.get('PascalVOCDataset')
    assert voc.METAINFO['palette'] == voc_colormap(21).tolist()
    assert [list(rgb) for rgb in DEMO_PALETTE] == voc.METAINFO['palette'][:11]


def test_pascal_voc_dataset_rejects_new_class_names(seg_set, mmseg_datasets):
    """Why configs use BaseSegDataset: mmseg 1.2.2's PascalVOCDataset only accepts a subset
    of the 21 VOC names as ``metainfo.classes`` (BaseSegDataset.get_label_map)."""
    root, _ = seg_set
    cfg = _voc_cfg(root, 'train', type='PascalVOCDataset')
    cfg.pop('img_suffix'), cfg.pop('seg_map_suffix')
    with DefaultScope.overwrite_default_scope('mmseg'):
        with pytest.raises(ValueError, match='not a subset'):
            mmseg_datasets.build(cfg)


@pytest.mark.parametrize('split', ['train', 'val'])
def test_mmseg_base_seg_dataset_loads_the_voc_layout(seg_set, seg_spec, mmseg_datasets, split):
    root, manifest = seg_set
    with DefaultScope.overwrite_default_scope('mmseg'):
        dataset = mmseg_datasets.build(_voc_cfg(root, split))
        assert len(dataset) == manifest['counts'][split] == getattr(seg_spec, f'num_{split}')
        assert dataset.metainfo['classes'] == DEMO_CLASSES
        assert dataset.metainfo['palette'] == [list(rgb) for rgb in DEMO_PALETTE]
        assert dataset.metainfo['label_map'] is None  # labels are used as stored
        for index in (0, len(dataset) - 1):
            sample = dataset[index]
            info = dataset.get_data_info(index)
            name = osp.splitext(osp.basename(info['img_path']))[0]
            assert name in manifest['images'][split]
            assert tuple(sample['inputs'].shape) == (3, seg_spec.size, seg_spec.size)
            gt = sample['data_samples'].gt_sem_seg.data.numpy()[0]
            expected = np.asarray(Image.open(root / 'SegmentationClass' / f'{name}.png'))
            assert np.array_equal(gt, expected)
            _, digits = load_digit_scans()
            classes = set(np.unique(gt).tolist()) - {0, 255}
            assert classes == {int(digits[i]) + 1 for i in manifest['images'][split][name]}


def test_mmpretrain_custom_dataset_with_ann_file(cls_set, cls_spec, mmpretrain_datasets):
    root, manifest = cls_set
    _, digits = load_digit_scans()
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        for split in ('train', 'val'):
            dataset = mmpretrain_datasets.build(dict(
                type='CustomDataset', data_root=str(root), ann_file=f'meta/{split}.txt',
                data_prefix=split, metainfo=demo_cls_metainfo(),
                pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')]))
            assert len(dataset) == manifest['counts'][split]
            assert dataset.metainfo['classes'] == DEMO_CLS_CLASSES
            rel_paths = [osp.relpath(dataset.get_data_info(i)['img_path'], root / split)
                         for i in range(len(dataset))]
            expected = [int(digits[manifest['images'][split][rel]]) for rel in rel_paths]
            assert dataset.get_gt_labels().tolist() == expected
            sample = dataset[0]
            assert tuple(sample['inputs'].shape) == (3, cls_spec.size, cls_spec.size)
            assert int(sample['data_samples'].gt_label) == expected[0]


def test_mmpretrain_custom_dataset_from_folders_alone(cls_set, mmpretrain_datasets):
    """Without an ann file CustomDataset indexes sorted folders; ours sort in digit order."""
    root, manifest = cls_set
    _, digits = load_digit_scans()
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        dataset = mmpretrain_datasets.build(dict(
            type='CustomDataset', data_root=str(root), data_prefix='train',
            metainfo=demo_cls_metainfo(), pipeline=[dict(type='LoadImageFromFile'),
                                                    dict(type='PackInputs')]))
        assert len(dataset) == manifest['counts']['train']
        for index in range(len(dataset)):
            rel = osp.relpath(dataset.get_data_info(index)['img_path'], root / 'train')
            assert dataset.get_gt_labels()[index] == digits[manifest['images']['train'][rel]]


def _demo_config_files():
    found = []
    for path in sorted(glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)):
        with open(path, encoding='utf-8') as handle:
            text = handle.read()
        if 'demo_voc' in text or 'demo_digits_cls' in text:
            found.append(osp.relpath(path, REPO))
    return found


def _dataset_dicts(node):
    from mmsofteq.apis import config_dicts
    return (found for found in config_dicts(node)
            if 'type' in found and isinstance(found.get('data_root'), str))


@pytest.mark.parametrize('config', _demo_config_files())
def test_repo_configs_use_the_demo_metainfo(config):
    """Configs that point at the demo folders carry our classes/palette verbatim."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, config)).to_dict()
    checked = 0
    for dataset in _dataset_dicts(cfg):
        if 'demo_voc' in dataset['data_root']:
            assert dataset['type'] not in ('PascalVOCDataset', 'mmseg.PascalVOCDataset')
            assert tuple(dataset['metainfo']['classes']) == DEMO_CLASSES
            assert [list(c) for c in dataset['metainfo']['palette']] == \
                [list(c) for c in DEMO_PALETTE]
            checked += 1
        elif 'demo_digits_cls' in dataset['data_root']:
            classes = dataset.get('metainfo', {}).get('classes')
            assert classes is None or tuple(classes) == DEMO_CLS_CLASSES
            checked += 1
    assert checked, f'{config} mentions the demo data but no dataset uses it as data_root'
