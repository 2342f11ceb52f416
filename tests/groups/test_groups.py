"""Group parsing and generator realisation on spaces."""
import numpy as np
import pytest
from scipy.linalg import expm

from mmsofteq.groups import (GridSpace, TrivialSpace, VectorSpace, parse_group, so2_generator,
                             so3_generator)


@pytest.mark.parametrize('name, labels', [
    ('SO2', ['so2', 'rot90']), ('so2', ['so2', 'rot90']), ('O2', ['so2', 'rot90', 'flip_x']),
    ('C4', ['rot90']), ('C2', ['rot180']), ('C8', ['rot45', 'rot90']), ('C6', ['rot60', 'rot180']),
    ('C3', ['rot120']), ('D4', ['rot90', 'flip_x']), ('C1', ['identity'])])
def test_grid_generators_per_group(name, labels):
    generators = parse_group(name).generators(GridSpace(3))
    assert [g.label for g in generators] == labels
    assert all(g.matrix.shape == (9, 9) for g in generators)


def test_vector_spaces_get_no_grid_companions_and_exact_rotations():
    (so2,) = parse_group('SO2').generators(VectorSpace(2))
    np.testing.assert_array_equal(so2.matrix, so2_generator())
    (c8,) = parse_group('C8').generators(VectorSpace(2))
    np.testing.assert_allclose(c8.matrix + np.eye(2), expm(np.pi / 4 * so2_generator()),
                               atol=1e-15)
    (about_x,) = parse_group('SO2').generators(VectorSpace(3, axis='x'))
    np.testing.assert_array_equal(about_x.matrix, so3_generator('x'))


def test_so3_generators_satisfy_the_lie_algebra():
    lx, ly, lz = (g.matrix for g in parse_group('SO3').generators(VectorSpace(3)))
    np.testing.assert_array_equal(lx @ ly - ly @ lx, lz)
    np.testing.assert_array_equal(lz, [[0, -1, 0], [1, 0, 0], [0, 0, 0]])


def test_trivial_space_generators_are_zero_and_aligned():
    generators = parse_group('O2').generators(TrivialSpace(2), on_grid=True)
    assert [g.label for g in generators] == ['so2', 'rot90', 'flip_x']
    assert all(not np.any(g.matrix) for g in generators)


@pytest.mark.parametrize('bad', ['SO4', 'C0', 'C', 'D-1', 'rotation', '', 4, None])
def test_unknown_group_is_a_value_error_listing_the_allowed_names(bad):
    with pytest.raises(ValueError, match="'SO2', 'O2'"):
        parse_group(bad)


def test_so3_on_a_grid_is_rejected():
    with pytest.raises(ValueError, match='SO3'):
        parse_group('SO3').generators(GridSpace(3))


@pytest.mark.parametrize('kwargs', [dict(dim=4), dict(dim=3, axis='w')])
def test_bad_vector_space(kwargs):
    with pytest.raises(ValueError, match='VectorSpace'):
        VectorSpace(**kwargs)
