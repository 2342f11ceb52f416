"""``mmsofteq.DataCheckHook`` through tools/train.py on a tiny VOC whose files the tests break:
the run stops naming the file, where PyTorch's own error does not."""
import os.path as osp

import numpy as np
import pytest
import torch
from fixtures import make_tiny_voc, tiny_segformer_cfg
from fixtures.tools import load_tool
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from PIL import Image

from mmsofteq.structures.sample_checks import (check_finite_inputs, check_labels,
                                               label_values_problem, sample_source)


# ------------------------------------------------------------------------- hand cases (fast)
@pytest.mark.parametrize('values, classes, ignore, expected', [
    ([0, 3, 255], 4, 255, None),
    ([0, 7, 7, 255], 4, 255, "2 label value(s) [7] outside the 4 classes [0, 3], nor the "
                             "ignore index 255"),
    ([-1, 0], 4, 255, "1 label value(s) [-1] outside the 4 classes [0, 3], nor the ignore "
                      "index 255"),
    ([255], 4, None, "1 label value(s) [255] outside the 4 classes [0, 3]"),
    ([9, 9], 10, None, None),
])
def test_label_values_problem_on_hand_cases(values, classes, ignore, expected):
    assert label_values_problem(torch.tensor(values), classes, ignore) == expected


def _sample(img_path='a/b.jpg', seg_map_path='a/b.png'):
    sample = SegDataSample(metainfo=dict(img_path=img_path, seg_map_path=seg_map_path))
    sample.gt_sem_seg = PixelData(data=torch.zeros(1, 2, 2, dtype=torch.long))
    return sample


def test_messages_name_both_files_of_the_sample():
    sample = _sample()
    assert sample_source(sample) == 'img_path=a/b.jpg, seg_map_path=a/b.png'
    assert sample_source(sample.to_dict()) == 'img_path=a/b.jpg, seg_map_path=a/b.png'
    with pytest.raises(ValueError, match=r'^img_path=a/b\.jpg, seg_map_path=a/b\.png: 1 label'):
        check_labels(torch.tensor([[5]]), 4, 255, sample)


def test_a_non_finite_image_is_named_with_its_counts():
    inputs = torch.zeros(2, 3, 4, 4)
    inputs[1, 0, 0, 0] = float('nan')
    inputs[1, 2, 1, 1] = float('inf')
    check_finite_inputs(inputs[:1], [_sample('x.jpg')], 'the metrics')
    with pytest.raises(ValueError, match=r'img_path=y\.jpg.*: the image holds 1 NaN and 1 Inf'):
        check_finite_inputs(inputs, [_sample('x.jpg'), _sample('y.jpg')], 'the metrics')


# ------------------------------------------------------------------- through train.py (slow)
@pytest.fixture
def tiny(tmp_path):
    data_root = make_tiny_voc(tmp_path / 'voc', num_images=4, size=32, num_classes=4)
    cfg = tiny_segformer_cfg(data_root, tmp_path / 'work', num_classes=4, max_iters=1,
                             batch_size=4, norm_type='BN')
    cfg.custom_imports = dict(imports=['mmsofteq'], allow_failed_imports=False)
    config = str(tmp_path / 'tiny.py')
    cfg.dump(config)
    return config, data_root


def _label_path(data_root, index):
    return osp.join(data_root, 'SegmentationClass', f'2007_{index:06d}.png')


def _train(config, tmp_path, *options):
    load_tool('train.py').main([config, '--work-dir', str(tmp_path / 'work'),
                                *(('--cfg-options', *options) if options else ())])


@pytest.mark.slow
def test_a_label_value_outside_the_classes_stops_training_naming_the_file(tiny, tmp_path):
    config, data_root = tiny
    path = _label_path(data_root, 2)
    label = np.array(Image.open(path))
    label[0, 0] = 30  # not a VOC class (mmseg maps the VOC classes left out to 255)
    Image.fromarray(label).save(path)
    with pytest.raises(ValueError, match=rf'seg_map_path={path}: 1 label value\(s\) \[30\] '
                                         r'outside the 4 classes \[0, 3\]'):
        _train(config, tmp_path)
    # control: without the hook, PyTorch's error names no file
    with pytest.raises(Exception) as error:
        _train(config, tmp_path, 'default_hooks.data_check=None')
    assert 'out of bounds' in str(error.value) and '2007_000002' not in str(error.value)


@pytest.mark.slow
def test_a_label_map_of_another_size_stops_training_naming_the_file(tiny, tmp_path):
    config, data_root = tiny
    path = _label_path(data_root, 1)
    Image.fromarray(np.array(Image.open(path))[:24, :24]).save(path)
    with pytest.raises(ValueError, match=rf'seg_map_path={path}: the label map is \(24, 24\) '
                                         r'but the image is \(32, 32\) after the pipeline'):
        _train(config, tmp_path)


def test_a_bad_enabled_value_is_refused():
    from mmsofteq.engine.hooks import DataCheckHook
    with pytest.raises(ValueError, match='DataCheckHook: enabled must be True or False'):
        DataCheckHook(enabled=1)
