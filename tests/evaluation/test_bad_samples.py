"""A bad test sample stops the rotated evaluation with the name of its file, where mmseg's own
metric would count it silently: label values outside the classes (mmseg's IoU drops them:
``torch.histc`` ignores values outside its bins) and NaN pixels (they change the rotated
metrics). The hostile samples are written by the tests: a PNG label map with a value of 30
for 21 VOC classes, and a pipeline step that turns one pixel of one image into NaN (what a
float TIFF can hold)."""
import numpy as np
import pytest
from fixtures.rotated_eval import (PointwiseBackbone, build_segmentor, make_runner,
                                   random_label_map, restrict_predictions_,
                                   segmentation_dataloader, segmentor_cfg, write_voc)
import torch
from mmcv.transforms import BaseTransform
from mmseg.evaluation import IoUMetric
from mmseg.registry import TRANSFORMS

pytestmark = pytest.mark.slow  # real Runner runs

METRIC = 'mmsofteq.RotatedIoUMetric'


@TRANSFORMS.register_module(name='NaNPixelForTest', force=True)
class NaNPixel(BaseTransform):
    """Float image with one NaN pixel for the image whose path ends with ``name``."""

    def __init__(self, name: str):
        self.name = name

    def transform(self, results: dict) -> dict:
        if results['img_path'].endswith(self.name):
            image = results['img'].astype(np.float32)
            image[2, 3, 1] = np.nan
            results['img'] = image
        return results


def _labels(sizes, bad_index=None, bad_value=30):
    rng = np.random.default_rng(0)
    labels = [random_label_map(h, w, rng) for h, w in sizes]
    if bad_index is not None:
        labels[bad_index][1:3, 1:3] = bad_value
    return labels


def _model():
    return restrict_predictions_(build_segmentor(
        segmentor_cfg(dict(type=PointwiseBackbone, out_channels=8)), seed=1))


def test_mmsegs_iou_metric_drops_out_of_range_labels_silently():
    """The control: mmseg's IoUMetric counts a pixel labelled 30 (of 21 classes) nowhere."""
    metric = IoUMetric()
    metric.dataset_meta = dict(classes=[str(index) for index in range(21)])
    label = torch.zeros(1, 4, 4, dtype=torch.long)
    label[0, 0, 0] = 30
    metric.process({}, [dict(pred_sem_seg=dict(data=torch.zeros_like(label)),
                             gt_sem_seg=dict(data=label))])
    assert float(metric.results[0][3].sum()) == 15  # 16 pixels, one not counted, no error


def test_an_out_of_range_label_is_refused_naming_the_file(tmp_path):
    sizes = [(16, 16)] * 3
    root = write_voc(str(tmp_path / 'voc'), sizes, labels=_labels(sizes, bad_index=1))
    runner = make_runner(_model(), str(tmp_path / 'rotated'), segmentation_dataloader(root),
                         METRIC, dict(kind='list', values=[90]), 'mmseg')
    with pytest.raises(ValueError, match=r"seg_map_path=.*img_001\.png: 4 label value\(s\) "
                                         r"\[30\] outside the 21 classes \[0, 20\], nor the "
                                         r"ignore index 255"):
        runner.test()


def test_a_nan_pixel_is_refused_naming_the_image(tmp_path):
    sizes = [(16, 16)] * 3
    root = write_voc(str(tmp_path / 'voc'), sizes)
    dataloader = segmentation_dataloader(root)
    dataloader['dataset']['pipeline'].insert(1, dict(type='NaNPixelForTest', name='img_002.jpg'))
    runner = make_runner(_model(), str(tmp_path / 'rotated'), dataloader, METRIC,
                         dict(kind='list', values=[90]), 'mmseg')
    with pytest.raises(ValueError, match=r'img_path=.*img_002\.jpg.*: the image holds 1 NaN '
                                         r'and 0 Inf value\(s\) after the data preprocessor'):
        runner.test()
