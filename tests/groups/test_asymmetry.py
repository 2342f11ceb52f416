"""The knob: lowering softness lowers the rotational asymmetry users measure (groups.asymmetry,
generator='resampled').

The asymmetry of a field ``w`` under a rotation measure ``μ`` is ``wᵀ Q_μ w``; ``Q_μ`` is built
from sparse bilinear weights and checked here against ``mmsofteq.utils.rotate_field`` (the
rotation the evaluation applies), against a finer quadrature, and against the closed form of
the quarter turn.
"""
import math

import numpy as np
import pytest
import torch

from mmsofteq.groups import (GridSpace, asymmetry_form, evaluation_measure,
                             exact_asymmetry_form, exact_elements, parse_group,
                             quarter_turn_operator, reflection_operator, relative_asymmetry,
                             resampled_rotation_operator)
from mmsofteq.projection import invariant_projector
from mmsofteq.utils import rotate_field

#: Every group kind: continuous, exact finite, finite with non-exact rotations, reflections.
GROUPS = ['SO2', 'O2', 'C2', 'C3', 'C4', 'C8', 'C36', 'D4', 'D8']
SOFTNESS = np.linspace(0.0, 1.0, 21)


@pytest.mark.parametrize('k', [2, 3, 6, 7])
@pytest.mark.parametrize('degrees', [-27.5, 10.0, 90.0, 180.0, 33.3])
def test_resampled_rotation_is_the_evaluations_rotate_field(k, degrees):
    field = torch.randn(1, k, k, dtype=torch.float64, generator=torch.Generator().manual_seed(k))
    operator, valid = resampled_rotation_operator(k, math.radians(degrees))
    expected = rotate_field(field, degrees)[0].reshape(-1).numpy()
    np.testing.assert_allclose(operator @ field.reshape(-1).numpy(), expected, atol=1e-12)
    # valid: where no zero fill was read, i.e. where a rotated constant stays constant
    ones = rotate_field(torch.ones(1, k, k, dtype=torch.float64), degrees)[0].reshape(-1)
    np.testing.assert_array_equal(valid, (ones - 1).abs().numpy() < 1e-12)


def test_quarter_turns_are_the_exact_permutation():
    operator, valid = resampled_rotation_operator(5, math.pi / 2)
    np.testing.assert_array_equal(operator, quarter_turn_operator(5))
    assert valid.all()


def test_the_quarter_turn_measure_has_the_closed_form_of_the_c4_fourier_modes():
    """C4's measure is uniform over the quarter turns R^j: on a mode with R v = λ v the form
    is (Σ_j |λ^j − 1|²)/4 = 0 (λ = 1) and 2 (λ = −1, ±i)."""
    k = 5
    form = asymmetry_form(k, evaluation_measure(parse_group('C4')))
    rotation = quarter_turn_operator(k)
    invariant = sum(np.linalg.matrix_power(rotation, j) for j in range(4)) / 4
    np.testing.assert_allclose(form, 2 * (np.eye(k * k) - invariant), atol=1e-12)


def test_the_midpoint_rule_is_converged():
    """The 0.5° midpoint rule against a 0.05° one: ‖Q_0.5 − Q_0.05‖₂ ≤ 1 % of ‖Q_0.05‖₂
    (measured 0.006 %, 0.55 %, 0.73 % at k = 3, 7, 14; the valid region switches pixels on
    and off as the angle moves, so the rule converges like O(step), not O(step²))."""
    group = parse_group('SO2')
    for k in (3, 7, 14):
        coarse = asymmetry_form(k, evaluation_measure(group))
        fine = asymmetry_form(k, evaluation_measure(group, step=0.05))
        assert np.linalg.norm(coarse - fine, 2) <= 1e-2 * np.linalg.norm(fine, 2)


@pytest.mark.parametrize('group', GROUPS + ['D3', 'O2'])
@pytest.mark.parametrize('k', [4, 7])
def test_the_form_commutes_with_the_groups_exact_elements(group, k):
    parsed = parse_group(group)
    form = asymmetry_form(k, evaluation_measure(parsed))
    assert np.allclose(form, form.T) and np.linalg.eigvalsh(form).min() > -1e-12
    for element in exact_elements(parsed, k):
        np.testing.assert_allclose(element @ form, form @ element, atol=1e-12)
    exact = exact_asymmetry_form(parsed, k)
    if exact is not None:
        np.testing.assert_allclose(exact @ form, form @ exact, atol=1e-12)


def _measured(group, k, kernels, **options):
    """Per softness: RMS relative asymmetry of the projected kernels under μ and under the
    exact elements, and the kept count."""
    parsed = parse_group(group)
    form = asymmetry_form(k, evaluation_measure(parsed))
    exact = exact_asymmetry_form(parsed, k)
    rows = []
    for softness in SOFTNESS:
        projector = invariant_projector(group, k, softness=float(softness), **options)
        projected = kernels @ projector.matrix
        under_measure = np.sqrt(np.mean(relative_asymmetry(projected, form) ** 2))
        under_exact = (np.sqrt(np.mean(relative_asymmetry(projected, exact) ** 2))
                       if exact is not None else 0.0)
        rows.append((under_measure, under_exact, projector.certificate.kept))
    return np.array(rows)


def _assert_the_knob_works(group, k, options=None):
    kernels = np.random.default_rng(k).normal(size=(200, k * k))
    rows = _measured(group, k, kernels, **(options or {}))
    measure, exact, kept = rows.T
    # non-increasing as softness decreases (rows go from softness 0 to 1)
    assert np.all(np.diff(measure) >= -1e-9), (group, k, measure)
    # strictly lower than the unprojected kernels whenever a direction is dropped; where the
    # measure cannot see the grid (2x2 under ±30°: every sample point leaves it) the exact
    # elements' asymmetry is
    dropped = kept < k * k
    if measure[-1] > 1e-9:
        assert np.all(measure[dropped] < measure[-1] - 1e-9), (group, k, measure)
    else:
        assert np.all(exact[dropped] < exact[-1] - 1e-9), (group, k, exact)


@pytest.mark.parametrize('group', ['SO2', 'C8'])
@pytest.mark.parametrize('k', range(2, 17))
def test_lower_softness_lowers_the_measured_asymmetry(group, k):
    _assert_the_knob_works(group, k)


@pytest.mark.slow
@pytest.mark.parametrize('group, k', [
    (group, k) for group in GROUPS if group not in ('SO2', 'C8') for k in range(2, 17)
    if (group, k) != ('C3', 2)])  # C3 cannot act on 2x2: refused (test below)
def test_lower_softness_lowers_the_measured_asymmetry_for_every_group(group, k):
    _assert_the_knob_works(group, k)


@pytest.mark.parametrize('options', [dict(rounding='cluster'), dict(cutoff='smooth', decay=0.2),
                                     dict(cutoff='smooth', decay=1.0)])
@pytest.mark.parametrize('group, k', [('SO2', 3), ('O2', 9), ('C8', 10), ('C36', 7), ('C4', 7),
                                      ('D4', 6), ('SO2', 2)])
def test_our_other_options_keep_the_knob_monotone(options, group, k):
    _assert_the_knob_works(group, k, options)


@pytest.mark.parametrize('group, k', [('C4', 7), ('D4', 6), ('SO2', 2), ('SO2', 7)])
def test_the_smooth_cutoff_is_never_the_identity_below_softness_one(group, k):
    """Its kept set is whole σ clusters (C4/D4: the invariant fields; 2x2 under SO2: the
    exact quarter turn's order), and everything else is damped: P ≠ I, and the report's
    kept count is what has weight 1."""
    for softness in (0.0, 0.3, 0.9):
        projector = invariant_projector(group, k, softness=softness, cutoff='smooth', decay=0.5)
        eigenvalues = np.linalg.eigvalsh(projector.matrix)
        assert np.abs(projector.matrix - np.eye(k * k)).max() > 1e-3
        assert projector.certificate.kept == int(np.sum(eigenvalues > 1 - 1e-9))


def test_a_grid_the_measure_cannot_see_takes_the_exact_elements():
    """2x2 under U(-30°, 30°): every sample point leaves the grid, so the quarter turn orders
    the directions (trivial < ±i < −1) and softness 0 keeps the constant field, for every
    rounding (the paper's index rule included)."""
    for rounding in ('frequency', 'cluster', 'index'):
        strict = invariant_projector('SO2', 2, softness=0.0, rounding=rounding)
        np.testing.assert_allclose(strict.matrix, np.full((4, 4), 0.25), atol=1e-12)
    certificate = invariant_projector('SO2', 2, softness=0.5).certificate
    assert 'exact elements' in certificate.labels[0]
    assert certificate.bound == pytest.approx(np.sqrt(2))   # |i − 1|: the ±i pair is kept
    assert invariant_projector('SO2', 2, softness=1.0).certificate.null_dim == 1
    with pytest.raises(ValueError, match='cannot act on a 2x2 grid'):
        invariant_projector('C3', 2, softness=0.5)


@pytest.mark.parametrize('group, k, strict', [('SO2', 7, 1), ('SO2', 2, 1), ('O2', 6, 1),
                                              ('C8', 5, None), ('C8', 6, None), ('C4', 5, 7),
                                              ('D4', 4, 3)])
def test_softness_zero_keeps_exactly_the_fields_no_rotation_changes(group, k, strict):
    """Strict SO2/O2: the constant field (bilinear interpolation keeps a constant inside the
    grid); C8: whatever its 45° turns leave unchanged inside the grid (a few fields: they
    see few pixels of a small grid); C4/D4: the orbit sums of the square's symmetries
    ((k²−1)/4 + 1 = 7 on 5x5; 3 D4 orbits on 4x4)."""
    projector = invariant_projector(group, k, softness=0.0)
    assert projector.certificate.kept == projector.certificate.null_dim >= 1
    assert strict is None or projector.certificate.kept == strict
    assert projector.certificate.bound < 1e-7
    field = np.random.default_rng(0).normal(size=(3, k * k)) @ projector.matrix
    parsed = parse_group(group)
    assert relative_asymmetry(field, asymmetry_form(k, evaluation_measure(parsed))).max() < 1e-7
    for element in exact_elements(parsed, k):
        np.testing.assert_allclose(field @ element.T, field, atol=1e-10)
    if strict == 1:
        np.testing.assert_allclose(projector.matrix, np.full((k * k, k * k), 1 / k ** 2),
                                   atol=1e-10)


@pytest.mark.parametrize('group, k', [('SO2', 7), ('O2', 7), ('C8', 7), ('D4', 6)])
def test_projectors_commute_with_the_exact_elements_at_every_softness(group, k):
    parsed = parse_group(group)
    for softness in SOFTNESS:
        matrix = invariant_projector(group, k, softness=float(softness)).matrix
        for element in exact_elements(parsed, k):
            np.testing.assert_allclose(element @ matrix, matrix @ element, atol=1e-10)


def test_softness_moves_in_fine_steps():
    """SO2 on 7x7: 49 directions, only the 2-D irreducible pairs tie: ≥ 25 distinct
    projectors over 101 softness values (measured 37; the spectral generator gave 22)."""
    counts = {invariant_projector('SO2', 7, softness=float(s)).certificate.kept
              for s in np.linspace(0, 1, 101)}
    assert len(counts) >= 25


def test_the_certificate_bounds_the_rms_asymmetry_and_the_exact_elements():
    k = 6
    parsed = parse_group('O2')
    form = asymmetry_form(k, evaluation_measure(parsed))
    theta = np.random.default_rng(3).normal(size=(50, k * k))
    for softness in (0.1, 0.5, 0.9):
        projector = invariant_projector('O2', k, softness=softness)
        weight = theta @ projector.matrix
        rms = np.sqrt(np.einsum('ij,jk,ik->i', weight, form, weight))
        norms = np.linalg.norm(theta, axis=1)
        assert np.all(rms <= projector.certificate.bound * norms + 1e-10)
        for element in exact_elements(parsed, k):
            change = np.linalg.norm(weight @ (element - np.eye(k * k)).T, axis=1)
            assert np.all(change <= projector.certificate.exact_bound * norms + 1e-10)


def test_angle_range_sets_the_measure_and_bad_values_are_refused():
    wide = invariant_projector('SO2', 5, softness=0.5, angle_range=(-180, 180))
    narrow = invariant_projector('SO2', 5, softness=0.5)
    assert not np.allclose(wide.matrix, narrow.matrix)
    assert 'U(-180°,180°)' in wide.certificate.labels[0]
    with pytest.raises(ValueError, match='low <= high'):
        invariant_projector('SO2', 5, softness=0.5, angle_range=(30, -30))
    with pytest.raises(ValueError, match='symmetric angle_range'):
        invariant_projector('O2', 5, softness=0.5, angle_range=(0, 30))
    with pytest.raises(ValueError, match="equivariant maps take generator='spectral'"):
        from mmsofteq.projection import equivariant_projector
        equivariant_projector('SO2', 3, 3, softness=0.5, generator='resampled')


def test_vector_spaces_rotate_exactly_so_resampled_is_the_lie_generator():
    from mmsofteq.groups import VectorSpace
    resampled = parse_group('SO2').generators(VectorSpace(2), discretisation='resampled')
    spectral = parse_group('SO2').generators(VectorSpace(2), discretisation='spectral')
    assert [g.label for g in resampled] == [g.label for g in spectral] == ['so2']
    assert parse_group('SO2').generators(GridSpace(3), discretisation='resampled')[0].kind == \
        'asymmetry'
    assert reflection_operator(3).shape == (9, 9)
