"""Per-sample statistics: histograms (vs mmseg), KL direction/scale, exact means."""
import math

import numpy as np
import pytest
import torch
from mmseg.evaluation.metrics import IoUMetric

from mmsofteq.evaluation.statistics import (check_probability_vector, exact_mean, geometric_mean,
                                            iou_summary, kl_divergence_of_probabilities,
                                            mean_pixel_kl_divergence, segmentation_histograms)


def test_histograms_match_mmseg_intersect_and_union():
    generator = torch.Generator().manual_seed(0)
    label = torch.randint(0, 6, (20, 30), generator=generator)
    label[label == 5] = 255
    label[0, :4] = 7  # out of range (not ignored): counts in no class, its predictions do
    pred = torch.randint(0, 5, (20, 30), generator=generator)
    pred[1, :3] = 9  # out-of-range prediction: counts nowhere
    ours = segmentation_histograms(pred, label, num_classes=5, ignore_index=255)
    reference = IoUMetric.intersect_and_union(pred, label, 5, 255)
    np.testing.assert_array_equal(ours, np.stack([r.numpy() for r in reference]))
    assert ours.dtype == np.float64


def test_ignore_index_never_counts():
    label = torch.tensor([[0, 1, 255, 255]])
    pred = torch.tensor([[0, 0, 1, 1]])
    intersect, union, pred_area, label_area = segmentation_histograms(pred, label, 2, 255)
    np.testing.assert_array_equal(intersect, [1, 0])
    np.testing.assert_array_equal(pred_area, [2, 0])
    np.testing.assert_array_equal(label_area, [1, 1])
    np.testing.assert_array_equal(union, [2, 1])


def test_iou_summary_known_values_and_absent_classes():
    # class 0: I=3 U=4; class 1: I=1 U=2; class 2: absent everywhere (U=0 -> NaN, skipped)
    histograms = np.array([[3, 1, 0], [4, 2, 0], [4, 1, 0], [3, 2, 0]], dtype=np.float64)
    summary = iou_summary(histograms)
    assert summary['mIoU'] == pytest.approx((3 / 4 + 1 / 2) / 2)
    assert math.isnan(summary['IoU'][2])
    assert summary['pixel_acc'] == pytest.approx(4 / 5)
    assert summary['mAcc'] == pytest.approx((1 + 1 / 2) / 2)
    assert iou_summary(histograms, nan_to_num=0)['mIoU'] == pytest.approx((3 / 4 + 1 / 2) / 3)


def _direct_kl(p_logits, q_logits):
    p = torch.softmax(p_logits.double(), 0)
    q = torch.softmax(q_logits.double(), 0)
    return (p * (p / q).log()).sum(0)


def test_pixel_kl_direction_and_masking():
    generator = torch.Generator().manual_seed(1)
    reference = torch.randn(4, 5, 6, generator=generator) * 2
    other = torch.randn(4, 5, 6, generator=generator) * 2
    valid = torch.rand(5, 6, generator=generator) > 0.4
    expected = float(_direct_kl(reference, other)[valid].mean())
    reverse = float(_direct_kl(other, reference)[valid].mean())
    ours = mean_pixel_kl_divergence(reference, other, valid)
    assert ours == pytest.approx(expected, rel=1e-6)  # float32 per-pixel terms
    assert mean_pixel_kl_divergence(reference.double(), other.double(), valid) == \
        pytest.approx(expected, rel=1e-12)
    assert abs(ours - reverse) > 1e-3 * expected  # the direction matters for these logits
    # values outside the mask do not matter
    other_changed = other.clone()
    other_changed[:, ~valid] = 100.0
    assert mean_pixel_kl_divergence(reference, other_changed, valid) == pytest.approx(ours)
    assert mean_pixel_kl_divergence(reference, other, torch.zeros(5, 6, dtype=torch.bool)) is None
    assert mean_pixel_kl_divergence(reference, reference, valid) == pytest.approx(0, abs=1e-15)


def test_pixel_kl_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r'\(C, H, W\)'):
        mean_pixel_kl_divergence(torch.zeros(2, 3, 3), torch.zeros(2, 3, 4),
                                 torch.ones(3, 3, dtype=torch.bool))


def test_probability_kl_known_value_and_zero_terms():
    p = torch.tensor([0.5, 0.5, 0.0])
    q = torch.tensor([0.25, 0.25, 0.5])
    assert kl_divergence_of_probabilities(p, q) == pytest.approx(math.log(2), rel=1e-7)
    # q has mass where p has none: p is floored at float32's smallest normal, not log(0)
    tiny = float(torch.finfo(torch.float32).tiny)
    expected = 2 * 0.25 * math.log(0.25 / 0.5) + 0.5 * math.log(0.5 / tiny)
    assert kl_divergence_of_probabilities(q, p) == pytest.approx(expected, rel=1e-7)


def test_check_probability_vector():
    check_probability_vector(torch.tensor([0.2, 0.8]), 'pred_score')
    with pytest.raises(ValueError, match='softmax'):
        check_probability_vector(torch.tensor([2.0, -1.0]), 'pred_score')
    with pytest.raises(ValueError, match='softmax'):
        check_probability_vector(torch.tensor([0.9, 0.9]), 'pred_score')


def test_exact_mean_is_order_independent_and_geometric_mean():
    values = [1e16, 1.0, -1e16, 3.0] * 5
    assert exact_mean(values) == 1.0
    assert exact_mean(values[::-1]) == exact_mean(values)
    assert math.isnan(exact_mean([]))
    assert geometric_mean(64.0, 81.0) == pytest.approx(72.0)
    assert math.isnan(geometric_mean(float('nan'), 3.0))


def test_pixel_kl_of_large_maps_spanning_several_row_blocks():
    generator = torch.Generator().manual_seed(2)
    reference = torch.randn(3, 200, 500, generator=generator, dtype=torch.float64)
    other = torch.randn(3, 200, 500, generator=generator, dtype=torch.float64)
    valid = torch.rand(200, 500, generator=generator) > 0.5
    expected = float(_direct_kl(reference, other)[valid].mean())
    assert mean_pixel_kl_divergence(reference, other, valid) == pytest.approx(expected, rel=1e-12)


def test_kl_kernel_matches_the_closed_form_and_the_metric_mean():
    """``KL(P || Q) = Σ_c P_c (log P_c − log Q_c)``: a hand case, the per-pixel map (the
    demo's eErr map) averaging to the metric's mean, zero for equal logits, p = 0 terms."""
    from mmsofteq.evaluation.statistics import (kl_divergence, kl_divergence_from_logits,
                                                mean_pixel_kl_divergence)
    p, q = torch.tensor([0.5, 0.25, 0.25]), torch.tensor([0.25, 0.25, 0.5])
    expected = 0.5 * math.log(2) + 0.25 * math.log(0.5)
    assert abs(float(kl_divergence(p.log(), q.log())) - expected) < 1e-7
    assert float(kl_divergence(torch.tensor([0.0, 1.0]).log(), q[:2].log())) == \
        pytest.approx(-math.log(0.25))
    generator = torch.Generator().manual_seed(0)
    reference = torch.randn(5, 12, 9, generator=generator, dtype=torch.float64)
    other = torch.randn(5, 12, 9, generator=generator, dtype=torch.float64)
    valid = torch.rand(12, 9, generator=generator) > 0.3
    kl_map = kl_divergence_from_logits(reference, other, dim=0)
    log_p, log_q = reference.log_softmax(0), other.log_softmax(0)
    assert torch.allclose(kl_map, (log_p.exp() * (log_p - log_q)).sum(0), atol=1e-12)
    assert kl_map.shape == (12, 9) and bool((kl_map >= 0).all())
    assert float(kl_map[valid].mean()) == pytest.approx(
        mean_pixel_kl_divergence(reference, other, valid), rel=1e-12)
    assert float(kl_divergence_from_logits(reference, reference, dim=0).abs().max()) == 0.0
    with pytest.raises(ValueError, match='differ in shape'):
        kl_divergence_from_logits(torch.zeros(3, 4, 4), torch.zeros(3, 4, 5))


def test_a_sum_rounded_below_zero_is_reported_as_plus_zero():
    """KL >= 0: a negative sum (here an unnormalised ``q`` gives exactly ``-eps``, as float
    rounding can for ``q ≈ p``) comes back as +0.0, which prints ``0.0000``, not ``-0.0000``."""
    from mmsofteq.evaluation.statistics import kl_divergence

    log_p = torch.log(torch.tensor([0.25, 0.75], dtype=torch.float64))
    for eps in (1e-12, 1e-6):
        value = float(kl_divergence(log_p, log_p + eps))
        assert value == 0.0 and math.copysign(1.0, value) == 1.0
        assert f'{value:.4f}' == '0.0000'
    # and a positive divergence is left alone: 0.25 log(0.25/0.5) + 0.75 log(0.75/0.5)
    expected = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)
    log_q = torch.log(torch.tensor([0.5, 0.5], dtype=torch.float64))
    assert float(kl_divergence(log_p, log_q)) == pytest.approx(expected, rel=1e-12)
