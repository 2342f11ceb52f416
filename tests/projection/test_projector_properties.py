"""Identities every projector must satisfy (invariant and equivariant)."""
import numpy as np
import pytest
import torch
from scipy.linalg import expm

from mmsofteq.groups import VectorSpace, quarter_turn_operator, rotation_generator, so2_generator
from mmsofteq.projection import equivariant_projector, invariant_projector

GROUPS = ['SO2', 'C4', 'C8', 'D4', 'O2']


@pytest.mark.parametrize('group', GROUPS)
@pytest.mark.parametrize('softness', [0.0, 0.3, 0.8])
def test_hard_invariant_projector_is_symmetric_and_idempotent(group, softness):
    matrix = invariant_projector(group, 7, softness=softness).matrix
    np.testing.assert_allclose(matrix, matrix.T, atol=1e-12)
    np.testing.assert_allclose(matrix @ matrix, matrix, atol=1e-10)


@pytest.mark.parametrize('group', GROUPS)
@pytest.mark.parametrize('softness', [0.0, 0.4, 0.9])
def test_hard_equivariant_projector_is_symmetric_and_idempotent(group, softness):
    dense = equivariant_projector(group, 3, 4, softness=softness).to_dense()
    np.testing.assert_allclose(dense, dense.T, atol=1e-10)
    np.testing.assert_allclose(dense @ dense, dense, atol=1e-10)
    assert round(np.trace(dense)) == equivariant_projector(
        group, 3, 4, softness=softness).certificate.kept


@pytest.mark.parametrize('group', GROUPS)
def test_softness_one_is_the_identity(group):
    invariant = invariant_projector(group, 5, softness=1.0)
    assert invariant.is_identity
    np.testing.assert_array_equal(invariant.matrix, np.eye(25))
    equivariant = equivariant_projector(group, 3, 3, softness=1.0)
    assert equivariant.is_identity
    weight = np.random.default_rng(0).normal(size=(9, 9))
    np.testing.assert_allclose(equivariant.apply(weight), weight, atol=1e-12)


@pytest.mark.parametrize('k', [2, 3, 4, 5, 8, 14])
def test_strict_c4_invariant_kernels_are_exactly_rot90_invariant(k):
    theta = np.random.default_rng(k).normal(size=(6, k * k))
    effective = theta @ invariant_projector('C4', k, softness=0.0).matrix
    rotated = effective @ quarter_turn_operator(k).T            # rot90 of every row's grid
    assert np.abs(rotated - effective).max() <= 1e-10
    assert np.linalg.norm(effective) > 0.1                       # not trivially zero


@pytest.mark.parametrize('k_in, k_out', [(3, 3), (4, 4), (5, 3), (6, 6)])
def test_strict_c4_grid_maps_commute_with_rot90(k_in, k_out):
    theta = np.random.default_rng(k_in).normal(size=(k_out * k_out, k_in * k_in))
    weight = equivariant_projector('C4', k_in, k_out, softness=0.0).apply(theta)
    error = weight @ quarter_turn_operator(k_in) - quarter_turn_operator(k_out) @ weight
    assert np.abs(error).max() <= 1e-10
    assert np.linalg.norm(weight) > 0.1


def fixed_pixels(k, turns, flip):
    """χ(g): the pixels of a k x k grid that g = rot90^turns ∘ (fliplr if flip) leaves in place
    (np.rot90 / np.fliplr on an index grid)."""
    index = np.arange(k * k).reshape(k, k)
    moved = np.rot90(np.fliplr(index) if flip else index, turns)
    return int(np.sum(moved == index))


@pytest.mark.parametrize('group', ['C4', 'D4'])
@pytest.mark.parametrize('k_in, k_out', [(3, 3), (4, 4), (5, 3), (4, 5), (6, 6)])
def test_strict_grid_maps_have_the_dimension_of_the_character_formula(group, k_in, k_out):
    """dim Hom_G(R_in, R_out) = (1/|G|) Σ_g χ_in(g) χ_out(g) for the permutation
    representations on the grids: the strict projector keeps exactly that many directions
    (all equivariant maps, not a subspace of them)."""
    elements = [(turns, flip) for turns in range(4)
                for flip in ((False, True) if group == 'D4' else (False, ))]
    dimension = sum(fixed_pixels(k_in, *g) * fixed_pixels(k_out, *g)
                    for g in elements) / len(elements)
    projector = equivariant_projector(group, k_in, k_out, softness=0.0)
    assert projector.certificate.kept == dimension == round(np.trace(projector.to_dense()))

def test_strict_so2_vector_maps_commute_with_every_rotation():
    space = VectorSpace(2)
    theta = np.random.default_rng(1).normal(size=(2, 2))
    weight = equivariant_projector('SO2', space, space, softness=0.0).apply(theta)
    for angle in (0.1, 1.0, 2.5):
        rotation = expm(angle * so2_generator())
        assert np.abs(weight @ rotation - rotation @ weight).max() <= 1e-12


def test_strict_so2_grid_kernels_are_c4_and_flip_free_of_spurious_modes():
    for k in (4, 8, 16):
        matrix = invariant_projector('SO2', k, softness=0.0).matrix
        quarter = quarter_turn_operator(k)
        assert np.abs(quarter @ matrix - matrix).max() <= 1e-10
        # the strict SO(2) subspace is much smaller than the C4-invariant one
        assert np.trace(matrix) < np.trace(invariant_projector('C4', k, softness=0.0).matrix)


def _relative_errors(group, k, softness_levels, theta):
    errors, bounds = [], []
    for softness in softness_levels:
        projector = equivariant_projector(group, k, k, softness=softness)
        weight = projector.apply(theta)
        generator = rotation_generator(k) if group == 'SO2' else quarter_turn_operator(k) - np.eye(k * k)
        errors.append(np.linalg.norm(weight @ generator - generator @ weight) / np.linalg.norm(theta))
        bounds.append(projector.certificate.bound)
    return np.array(errors), np.array(bounds)


@pytest.mark.parametrize('group', ['SO2', 'C4'])
def test_equivariance_error_decreases_with_softness_and_respects_the_bound(group):
    k = 5
    theta = np.random.default_rng(7).normal(size=(k * k, k * k))
    levels = [1.0, 0.9, 0.7, 0.5, 0.3, 0.1, 0.0]
    errors, bounds = _relative_errors(group, k, levels, theta)
    assert np.all(np.diff(errors) <= 1e-12), errors             # monotone as softness decreases
    assert errors[0] > 0.5 and errors[-1] <= 1e-10
    assert np.all(errors <= bounds + 1e-10), (errors, bounds)


def test_certificate_bounds_a_finite_rotation_by_angle_times_bound():
    k = 7
    theta = np.random.default_rng(3).normal(size=(k * k, k * k))
    projector = equivariant_projector('SO2', k, k, softness=0.4)
    weight = projector.apply(theta)
    for angle in (0.05, 0.3, 1.0):
        rotation = expm(angle * rotation_generator(k))
        error = np.linalg.norm(weight @ rotation - rotation @ weight)
        assert error <= angle * projector.certificate.bound * np.linalg.norm(theta) + 1e-9


def test_invariant_certificate_bounds_the_row_invariance_error():
    k = 6
    theta = np.random.default_rng(5).normal(size=(10, k * k))
    for softness in (0.0, 0.2, 0.6, 0.95):
        projector = invariant_projector('C4', k, softness=softness)
        error = np.linalg.norm(theta @ projector.matrix @ (quarter_turn_operator(k).T - np.eye(k * k)))
        assert error <= projector.certificate.bound * np.linalg.norm(theta) + 1e-10


@pytest.mark.slow
@pytest.mark.parametrize('group, sizes', [('C4', range(2, 9)), ('SO2', range(2, 7)),
                                          ('C8', range(2, 6))])
def test_schur_route_equals_svd_route_for_grid_maps(group, sizes):
    for k in sizes:
        for softness in (0.0, 0.5):
            svd = equivariant_projector(group, k, k, softness=softness, method='svd')
            schur = equivariant_projector(group, k, k, softness=softness, method='schur')
            assert svd.certificate.kept == schur.certificate.kept
            theta = np.random.default_rng(k).normal(size=(k * k, k * k))
            np.testing.assert_allclose(svd.apply(theta), schur.apply(theta), atol=1e-9)
            assert svd.certificate.bound == pytest.approx(schur.certificate.bound, abs=1e-9)


@pytest.mark.parametrize('group', GROUPS)
def test_invariant_routes_agree(group):
    for k in (3, 8, 16):
        svd = invariant_projector(group, k, softness=0.6, method='svd')
        schur = invariant_projector(group, k, softness=0.6, method='schur')
        np.testing.assert_allclose(svd.matrix, schur.matrix, atol=1e-9)
        assert svd.certificate.kept == schur.certificate.kept


def test_reflection_groups_compose_commuting_projectors_exactly_at_softness_zero():
    for group in ('D4', 'O2'):
        svd = equivariant_projector(group, 3, 3, softness=0.0, method='svd').to_dense()
        schur = equivariant_projector(group, 3, 3, softness=0.0, method='schur').to_dense()
        np.testing.assert_allclose(svd, schur, atol=1e-10)


def test_smooth_cutoff_weights_decay_and_bound_the_error():
    sharp = invariant_projector('SO2', 7, tau=1.5, generator='spectral')
    smooth = invariant_projector('SO2', 7, tau=1.5, cutoff='smooth', decay=0.5,
                                 generator='spectral')
    eigenvalues = np.linalg.eigvalsh(smooth.matrix)
    assert eigenvalues.min() > 0 and eigenvalues.max() <= 1 + 1e-12  # every direction kept a bit
    assert np.trace(smooth.matrix) > np.trace(sharp.matrix)
    assert smooth.certificate.kept == sharp.certificate.kept
    assert not np.allclose(smooth.matrix @ smooth.matrix, smooth.matrix)
    theta = np.random.default_rng(0).normal(size=(4, 49))
    generator = rotation_generator(7)
    error = np.linalg.norm(theta @ smooth.matrix @ generator)
    assert error <= smooth.certificate.bound * np.linalg.norm(theta) + 1e-10
    wider = invariant_projector('SO2', 7, tau=1.5, cutoff='smooth', decay=2.0,
                                generator='spectral')
    assert wider.certificate.bound > smooth.certificate.bound


def test_projector_follows_the_callers_dtype_and_is_cached():
    projector = invariant_projector('C4', 3, softness=0.5)
    assert projector is invariant_projector('C4', (3, 3), softness=0.5)
    for dtype in (torch.float32, torch.float64, torch.bfloat16):
        weight = torch.randn(2, 5, 9).to(dtype)
        result = projector.apply(weight)
        assert result.dtype == dtype and result.shape == weight.shape
    assert projector.as_tensor(torch.float64).dtype == torch.float64


def test_equivariant_apply_accepts_torch_and_keeps_dtype():
    projector = equivariant_projector('C4', 3, 3, softness=0.0)
    weight = torch.randn(9, 9, dtype=torch.float32)
    result = projector.apply(weight)
    assert isinstance(result, torch.Tensor) and result.dtype == torch.float32
    np.testing.assert_allclose(result.numpy(), projector.apply(weight.double().numpy()),
                               atol=1e-6)


def test_large_grid_maps_never_form_the_kronecker_matrix():
    projector = equivariant_projector('SO2', 14, 14, softness=0.9)
    assert projector.dense is None and projector.certificate.total == 196 * 196
    with pytest.raises(ValueError, match='max_dim'):
        projector.to_dense()


@pytest.mark.parametrize('group', ['SO2', 'C4'])
def test_index_rounding_of_equivariant_maps_gives_a_true_projector(group):
    """The paper's index rule can cut a complex-conjugate pair of Schur directions; it takes
    the SVD route, so the result is idempotent with exactly ``kept`` unit eigenvalues."""
    projector = equivariant_projector(group, VectorSpace(3, 'z'), VectorSpace(3, 'z'),
                                      softness=0.3, rounding='index')
    matrix = projector.dense
    assert np.abs(matrix @ matrix - matrix).max() < 1e-12
    eigenvalues = np.sort(np.linalg.eigvalsh((matrix + matrix.T) / 2))
    assert np.allclose(eigenvalues, [0.0] * 5 + [1.0] * 4, atol=1e-12)
    assert projector.certificate.kept == 4 and projector.certificate.method == 'svd'
