"""The tunability experiment (softeq_lab.tunability): its layer, its metrics
and its driver."""
from importlib import import_module
import csv
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from softeq_lab.tunability.core import (METRIC_COLUMNS, RUN_COLUMNS, SoftInvariantLinear, accuracy,
                                        consistency_accuracy, evaluation_angles, invariance_error,
                                        load_digit_canvases, markdown_table, rotate_images,
                                        summarise)

CANVAS = 9  # small grid: the layer tests need no training and no digits


def _layer(group, softness, seed=0):
    torch.manual_seed(seed)
    return SoftInvariantLinear(CANVAS, 16, group, softness)


def _images(count=5, seed=1):
    return torch.randn(count, CANVAS, CANVAS, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize('group', ['SO2', 'O2'])
def test_softness_zero_is_exactly_invariant_to_quarter_turns(group):
    layer, images = _layer(group, 0.0), _images()
    with torch.no_grad():
        clean = layer(images)
        for turns in (1, 2, 3):
            turned = layer(torch.rot90(images, turns, dims=(-2, -1)))
            assert (turned - clean).abs().max() <= 1e-5
        assert clean.abs().max() > 1e-2  # not invariant by being zero


def test_softness_zero_o2_is_also_invariant_to_the_flip():
    layer, images = _layer('O2', 0.0), _images()
    with torch.no_grad():
        clean = layer(images)
        assert (layer(torch.flip(images, dims=(-1, ))) - clean).abs().max() <= 1e-5
        assert (layer(torch.flip(images, dims=(-2, ))) - clean).abs().max() <= 1e-5


def test_soft_layer_is_not_invariant():
    """The invariance tests above could fail: at softness 0.5 the quarter turn changes outputs."""
    layer, images = _layer('SO2', 0.5), _images()
    with torch.no_grad():
        assert (layer(torch.rot90(images, 1, dims=(-2, -1))) - layer(images)).abs().max() > 1e-2


@pytest.mark.parametrize('group', ['SO2', 'O2'])
def test_softness_one_is_a_plain_linear_layer(group):
    layer, images = _layer(group, 1.0), _images()
    assert layer.is_identity and layer.projector is None
    assert layer.certificate.kept == layer.certificate.total == CANVAS**2
    with torch.no_grad():
        expected = F.linear(images.reshape(len(images), -1), layer.weight, layer.bias)
        assert torch.equal(layer(images), expected)


def test_effective_weight_is_theta_times_the_projector_and_projector_is_not_saved():
    from mmsofteq.projection import invariant_projector
    layer = _layer('SO2', 0.25)
    matrix = torch.tensor(invariant_projector('SO2', CANVAS, softness=0.25).matrix)
    torch.testing.assert_close(layer.effective_weight().double(),
                               layer.weight.detach().double() @ matrix, atol=1e-5, rtol=1e-5)
    assert 'projector' not in layer.state_dict()


def test_rotation_matches_rot90_and_keeps_digits_in_view():
    data = load_digit_canvases()
    images = data.test_images[:40]
    torch.testing.assert_close(rotate_images(images, [90.0] * 40),
                               torch.rot90(images, 1, dims=(-2, -1)), atol=1e-4, rtol=0)
    torch.testing.assert_close(rotate_images(images, [0.0] * 40), images, atol=1e-5, rtol=0)
    rotated = rotate_images(images, evaluation_angles(40, seed=3))
    mass = rotated.sum(dim=(1, 2)) / images.sum(dim=(1, 2))
    assert ((mass - 1).abs() < 0.03).all()  # bilinear resampling, nothing falls off the canvas
    assert data.train_images.shape[1:] == (23, 23) and len(data.train_labels) + len(
        data.test_labels) == 1797


def test_evaluation_angles_are_per_sample_and_seeded():
    angles = evaluation_angles(100, seed=0)
    assert np.array_equal(angles, evaluation_angles(100, seed=0))
    assert np.array_equal(angles[:10], evaluation_angles(10, seed=0))  # index-keyed
    assert angles.min() >= -180 and angles.max() < 180 and angles.std() > 60


def test_accuracy_and_consistency_accuracy_on_hand_built_logits():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 1.0], [5.0, 0.0, 0.0]])
    labels = torch.tensor([0, 1, 1, 2])
    assert accuracy(logits, labels) == pytest.approx(50.0)
    assert consistency_accuracy(64.0, 25.0) == pytest.approx(40.0)
    assert consistency_accuracy(80.0, 80.0) == pytest.approx(80.0)


def test_invariance_error_is_kl_clean_to_transformed_times_100():
    clean = torch.tensor([[math.log(0.5), math.log(0.5)], [0.0, 0.0]], dtype=torch.float64)
    transformed = torch.tensor([[math.log(0.9), math.log(0.1)], [0.0, 0.0]],
                               dtype=torch.float64)
    # KL(p‖q) for p = (.5, .5), q = (.9, .1); the second sample contributes 0.
    kl = 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)
    assert invariance_error(clean, transformed) == pytest.approx(100 * kl / 2, rel=1e-12)
    reverse = 0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5)
    assert invariance_error(transformed, clean) == pytest.approx(100 * reverse / 2, rel=1e-12)
    assert abs(kl - reverse) > 0.05  # the direction matters, so the check above could fail
    assert invariance_error(clean, clean) == 0.0
    # Logits are shift-invariant per row, as softmax is.
    assert invariance_error(clean + 3.0, transformed - 1.0) == pytest.approx(100 * kl / 2)


def test_summary_is_mean_and_sample_std_over_seeds():
    rows = [dict(group='SO2', softness=0.0, seed=s, kept=3, total=9, bound=0.0,
                 **{c: float(v) for c in METRIC_COLUMNS}) for s, v in enumerate((1, 2, 6))]
    (entry, ) = summarise(rows)
    assert entry['acc'] == pytest.approx(3.0) and entry['acc_std'] == pytest.approx(
        np.std([1, 2, 6], ddof=1))
    table = markdown_table([entry])
    rows = [[cell.strip() for cell in line.strip('|').split('|')] for line in table.splitlines()]
    assert rows[0][:5] == ['group', 'softness', 'kept/total', 'bound β', 'Acc']
    assert rows[2][:5] == ['SO2', '0', '3/9', '0', '3.00 ± 2.65']


@pytest.mark.slow
def test_one_epoch_driver_run_writes_the_csv(tmp_path):
    out_dir = tmp_path / 'tunability'
    command = [sys.executable, '-m', 'softeq_lab.tunability.tunability_digits',
               '--out-dir', str(out_dir), '--epochs', '1', '--hidden', '8', '--seeds', '0', '1',
               '--softness', '0', '1', '--canvas', '13', '--digit-size', '9']
    result = subprocess.run(command, cwd=str(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=300)
    assert result.returncode == 0, result.stdout
    with open(out_dir / 'runs.csv') as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert tuple(reader.fieldnames) == RUN_COLUMNS
    assert [(r['group'], float(r['softness']), int(r['seed'])) for r in rows] == [
        (g, s, seed) for g in ('SO2', 'O2') for s in (0.0, 1.0) for seed in (0, 1)]
    for row in rows:
        assert row['total'] == '169' and 0 <= float(row['acc']) <= 100
        assert float(row['cacc']) == pytest.approx(
            math.sqrt(float(row['acc']) * float(row['aacc'])))
        if float(row['softness']) == 0.0:
            assert float(row['ierr_rot90']) < 1e-6 and float(row['bound']) < 1e-5
    for name in ('summary.md', 'config.json', 'tunability_digits.png'):
        assert (out_dir / name).is_file()
    assert 'iErr' in result.stdout and 'wall time' in result.stdout


def test_docs_block_replacement_touches_only_its_own_block(tmp_path):
    tool = import_module('softeq_lab.tunability.tunability_digits')
    path = tmp_path / 'results.md'
    begin, end = tool.markers()
    low_begin, low_end = tool.markers('low')
    path.write_text(f'# R\nprose A\n{begin}\nold\n{end}\nprose B\n{low_begin}\nold low\n'
                    f'{low_end}\n')
    assert tool.update_results_md(str(path), f'{low_begin}\nnew low\n{low_end}', 'low')
    assert tool.update_results_md(str(path), f'{begin}\nnew\n{end}')
    assert path.read_text() == (f'# R\nprose A\n{begin}\nnew\n{end}\nprose B\n{low_begin}\n'
                                f'new low\n{low_end}\n')
    assert not tool.update_results_md(str(path), 'x', 'missing')
    assert tool.figure_name('low') == 'tunability_digits_low.png'
