"""The fast routes' internals: block eigensolves, eigenvalue-only identities, shared bases."""
import numpy as np
import pytest

from mmsofteq.groups import GridSpace, VectorSpace, parse_group
from mmsofteq.projection import (clear_projector_cache, equivariant_projector, invariant_projector,
                                 invariant_spectrum, joint_eigenbasis)
from mmsofteq.projection.invariant import block_spectra


def _grid_generators(group, k):
    generators = parse_group(group).generators(GridSpace(k))
    return generators, (k, not parse_group(group).reflection)


@pytest.mark.parametrize('group', ['SO2', 'C4', 'C8', 'D4', 'O2'])
@pytest.mark.parametrize('k', [2, 4, 5])
def test_block_spectra_reassemble_the_gram_matrix(group, k):
    generators, symmetry = _grid_generators(group, k)
    stacked = np.concatenate([g.matrix for g in generators], axis=1)
    gram = stacked @ stacked.T
    spectra = block_spectra(generators, symmetry)
    assert sum(s.dim for s in spectra) == k * k
    rebuilt = sum(s.embed((s.vectors * s.sigmas ** 2) @ s.vectors.T, k * k) for s in spectra)
    np.testing.assert_allclose(rebuilt, gram, atol=1e-10)
    values_only = block_spectra(generators, symmetry, vectors=False)
    for with_vectors, without in zip(spectra, values_only):
        assert without.vectors is None
        # σ = sqrt(λ): compare λ = σ² (a 1e-16 eigenvalue has a 1e-8 square root).
        np.testing.assert_allclose(np.sort(without.sigmas ** 2),
                                   np.sort(with_vectors.sigmas ** 2), atol=1e-10)


@pytest.mark.parametrize('group', ['SO2', 'C4', 'D4'])
def test_schur_invariant_spectrum_is_an_orthonormal_eigenbasis(group):
    generators, symmetry = _grid_generators(group, 6)
    sigmas, basis, _ = invariant_spectrum(generators, 'schur', symmetry)
    stacked = np.concatenate([g.matrix for g in generators], axis=1)
    np.testing.assert_allclose(basis.T @ basis, np.eye(36), atol=1e-10)
    np.testing.assert_allclose(basis.T @ stacked @ stacked.T @ basis, np.diag(sigmas ** 2),
                               atol=1e-9)
    svd_sigmas = invariant_spectrum(generators, 'svd')[0]
    np.testing.assert_allclose(np.sort(sigmas ** 2), np.sort(svd_sigmas ** 2), atol=1e-9)


@pytest.mark.parametrize('group', ['SO2', 'C4', 'O2'])
def test_identity_projector_certificate_comes_from_the_eigenvalues_only(group):
    clear_projector_cache()
    identity = invariant_projector(group, 9, softness=1.0, generator='spectral')
    strict = invariant_projector(group, 9, softness=0.0, method='svd', generator='spectral')
    np.testing.assert_array_equal(identity.matrix, np.eye(81))
    assert identity.certificate.total == 81
    assert identity.certificate.null_dim == strict.certificate.null_dim
    # the invariant projectors stack every reflection of the square (all_reflections=True)
    generators = parse_group(group).generators(GridSpace(9), all_reflections=True)
    sigmas = invariant_spectrum(generators, 'svd')[0]
    assert identity.certificate.bound == pytest.approx(sigmas.max(), abs=1e-9)


def test_smooth_invariant_cutoff_agrees_between_routes():
    fast = invariant_projector('SO2', 7, softness=0.4, cutoff='smooth', decay=0.5)
    svd = invariant_projector('SO2', 7, softness=0.4, cutoff='smooth', decay=0.5, method='svd')
    np.testing.assert_allclose(fast.matrix, svd.matrix, atol=1e-9)
    assert fast.certificate.bound == pytest.approx(svd.certificate.bound, abs=1e-9)


def test_same_space_maps_share_one_eigenbasis_and_keep_vector_maps_exact():
    projector = equivariant_projector('SO2', 5, 5, softness=0.0)
    (factor,) = projector.factors
    assert factor.basis_in is factor.basis_out
    # Different spaces in and out still get their own bases (vector → vector, grid → vector).
    mixed = equivariant_projector('SO2', VectorSpace(2), VectorSpace(3), softness=0.0)
    svd = equivariant_projector('SO2', VectorSpace(2), VectorSpace(3), softness=0.0,
                                method='svd')
    np.testing.assert_allclose(mixed.to_dense(), svd.to_dense(), atol=1e-10)


def test_joint_eigenbasis_diagonalises_every_commuting_generator():
    generators = parse_group('SO2').generators(GridSpace(6))
    basis, eigenvalues = joint_eigenbasis([g.matrix for g in generators])
    np.testing.assert_allclose(basis.conj().T @ basis, np.eye(36), atol=1e-10)
    for generator, values in zip(generators, eigenvalues):
        np.testing.assert_allclose(generator.matrix @ basis, basis * values, atol=1e-9)
