"""``mmsofteq.ColorJitter``: mmpretrain's colour jitter whose hue step works under numpy 2.

mmcv 2.1.0's ``adjust_hue`` computes ``np.uint8(hue_factor * 255)``, an ``OverflowError`` for
any negative factor under numpy >= 2: the paper's VOC pipeline (``hue=0.1`` with p = 0.5)
crashed within a few iterations. The expectation is torchvision's own PIL hue shift."""
import numpy as np
import pytest
from mmcv.transforms import Compose
from PIL import Image
from torchvision.transforms import functional as TF

import mmsofteq  # noqa: F401  (registers the transform)
from mmsofteq.datasets import adjust_hue


def _image(seed=0):
    return np.random.default_rng(seed).integers(0, 256, (9, 11, 3), dtype=np.uint8)


def test_mmcv_fails_on_a_negative_hue_shift_under_numpy_2():
    import mmcv
    if int(np.__version__.split('.')[0]) < 2:
        pytest.skip('numpy 1 wraps the cast')
    with pytest.raises(OverflowError):
        mmcv.adjust_hue(_image(), -0.07)


@pytest.mark.parametrize('factor', [-0.5, -0.1, -0.07, -0.001, 0.0, 0.03, 0.1, 0.5])
def test_the_hue_shift_equals_torchvisions(factor):
    bgr = _image()
    expected = np.array(TF.adjust_hue(Image.fromarray(bgr[..., ::-1].copy()), factor))[..., ::-1]
    assert np.array_equal(adjust_hue(bgr, factor), expected)


def test_the_paper_pipeline_step_runs_every_draw():
    pipeline = Compose([dict(type='mmsofteq.ColorJitter', brightness=0.3, contrast=0.3,
                             saturation=0.3, hue=0.1)])
    np.random.seed(0)
    for seed in range(40):  # ~20 negative hue draws: every one raised before
        out = pipeline(dict(img=_image(seed)))
        assert out['img'].dtype == np.uint8 and out['img'].shape == (9, 11, 3)
