"""Discretisation of rotations and reflections on square grids (mmsofteq.groups.grid)."""
import numpy as np
import pytest
from scipy.linalg import expm

from mmsofteq.groups import (fourier_derivative_matrix, quarter_turn_operator, reflection_operator,
                             rotation_generator, rotation_operator)
from mmsofteq.projection.spectral import is_normal


@pytest.mark.parametrize('k', [1, 2, 3, 4, 7, 8])
def test_quarter_turn_is_the_exact_rot90_permutation(k):
    field = np.random.default_rng(k).normal(size=(k, k))
    operator = quarter_turn_operator(k)
    assert set(np.unique(operator)) <= {0.0, 1.0}
    assert np.all(operator.sum(0) == 1) and np.all(operator.sum(1) == 1)
    np.testing.assert_array_equal((operator @ field.ravel()).reshape(k, k), np.rot90(field))
    np.testing.assert_array_equal(np.linalg.matrix_power(operator, 4), np.eye(k * k))


@pytest.mark.parametrize('k', [2, 3, 6])
def test_reflection_is_fliplr(k):
    field = np.random.default_rng(k).normal(size=(k, k))
    operator = reflection_operator(k)
    np.testing.assert_array_equal((operator @ field.ravel()).reshape(k, k), np.fliplr(field))
    np.testing.assert_array_equal(operator @ operator, np.eye(k * k))


@pytest.mark.parametrize('k', [3, 4, 8, 9])
def test_fourier_derivative_is_exact_on_resolved_trigonometric_polynomials(k):
    index = np.arange(k)
    frequency = 2 * np.pi / k
    signal = np.sin(frequency * index) + 0.5 * np.cos(frequency * index)
    derivative = frequency * (np.cos(frequency * index) - 0.5 * np.sin(frequency * index))
    np.testing.assert_allclose(fourier_derivative_matrix(k) @ signal, derivative, atol=1e-12)


@pytest.mark.parametrize('k', [2, 3, 4, 5, 8, 14, 16])
def test_so2_grid_generator_is_normal_and_respects_the_square_symmetries(k):
    generator = rotation_generator(k)
    quarter, flip = quarter_turn_operator(k), reflection_operator(k)
    np.testing.assert_array_equal(generator, -generator.T)          # skew-symmetric
    assert is_normal(generator)
    np.testing.assert_allclose(quarter @ generator, generator @ quarter, atol=1e-12)
    np.testing.assert_allclose(flip @ generator @ flip, -generator, atol=1e-12)


def test_so2_grid_generator_rotates_a_smooth_field_counter_clockwise():
    k = 21
    centred = np.arange(k) - (k - 1) / 2
    x, y = np.meshgrid(centred, -centred)

    def blob(x0, y0):
        return np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * 1.5 ** 2)).ravel()

    angle = 0.3
    rotated = expm(angle * rotation_generator(k)) @ blob(4.0, 0.0)
    counter_clockwise = blob(4 * np.cos(angle), 4 * np.sin(angle))
    clockwise = blob(4 * np.cos(angle), -4 * np.sin(angle))
    assert np.linalg.norm(rotated - counter_clockwise) / np.linalg.norm(rotated) < 1e-3
    assert np.linalg.norm(rotated - clockwise) / np.linalg.norm(rotated) > 0.5


def test_rotation_operator_uses_exact_permutations_for_quarter_turns():
    np.testing.assert_array_equal(rotation_operator(5, np.pi / 2), quarter_turn_operator(5))
    np.testing.assert_array_equal(rotation_operator(5, np.pi), quarter_turn_operator(5, 2))
    eighth = rotation_operator(5, np.pi / 4)
    np.testing.assert_allclose(eighth @ eighth.T, np.eye(25), atol=1e-12)   # orthogonal


@pytest.mark.parametrize('bad', [(3, 4), (2, 3, 4), 0])
def test_non_square_grid_is_a_value_error_naming_the_argument(bad):
    with pytest.raises(ValueError, match='grid_shape'):
        rotation_generator(bad)


@pytest.mark.parametrize('k', [1, 2, 3, 4, 7])
@pytest.mark.parametrize('quarter_turns', [True, False])
def test_symmetry_adapted_blocks_are_an_orthonormal_invariant_splitting(k, quarter_turns):
    from mmsofteq.groups import symmetry_adapted_blocks
    blocks = symmetry_adapted_blocks(k, quarter_turns)
    basis = np.concatenate(blocks, axis=1)
    np.testing.assert_allclose(basis.T @ basis, np.eye(k * k), atol=1e-12)
    rotation = quarter_turn_operator(k, 1 if quarter_turns else 2)
    for block in blocks:                          # each block is mapped into itself
        inside = block @ (block.T @ (rotation @ block))
        np.testing.assert_allclose(inside, rotation @ block, atol=1e-12)
