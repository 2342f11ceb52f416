"""The eErr map drawn by the demo is the metric's per-pixel summand."""
import numpy as np
import torch

from mmsofteq.evaluation.statistics import mean_pixel_kl_divergence
from mmsofteq.visualization import colorize_labels, pixel_kl_map


def test_pixel_kl_map_averages_to_the_metrics_mean_over_valid_pixels():
    generator = torch.Generator().manual_seed(0)
    reference = torch.randn(5, 12, 9, generator=generator)
    other = torch.randn(5, 12, 9, generator=generator)
    valid = torch.rand(12, 9, generator=generator) > 0.3
    kl = pixel_kl_map(reference, other)
    assert kl.shape == (12, 9) and bool((kl >= -1e-6).all())
    expected = mean_pixel_kl_divergence(reference, other, valid)
    assert abs(float(kl[valid].double().mean()) - expected) < 1e-6 * max(1.0, expected)
    assert float(pixel_kl_map(reference, reference).abs().max()) < 1e-6


def test_pixel_kl_map_rejects_mismatched_logits():
    import pytest
    with pytest.raises(ValueError, match='logits must both be'):
        pixel_kl_map(torch.zeros(3, 4, 4), torch.zeros(3, 4, 5))


def test_colorize_labels_uses_the_palette_and_the_ignore_colour():
    labels = np.array([[0, 1], [255, 7]])
    rgb = colorize_labels(labels, [[0, 0, 0], [128, 0, 0]])
    assert rgb[0, 1].tolist() == [128, 0, 0] and rgb[0, 0].tolist() == [0, 0, 0]
    assert rgb[1, 0].tolist() == [224, 224, 192] and rgb[1, 1].tolist() == [224, 224, 192]
