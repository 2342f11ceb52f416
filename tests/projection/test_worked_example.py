"""The paper's worked example (Appendix D.2): rotations about z acting on R³, 3x3 maps."""
import numpy as np
import pytest

from mmsofteq.groups import VectorSpace, so3_generator
from mmsofteq.projection import constraint_matrix, equivariant_projector

SPACE = VectorSpace(3, axis='z')


def test_constraint_singular_values():
    generator = so3_generator('z')
    sigmas = np.sort(np.linalg.svd(constraint_matrix(generator, generator), compute_uv=False))
    np.testing.assert_allclose(sigmas, [0, 0, 0, 1, 1, 1, 1, 2, 2], atol=1e-12)


@pytest.mark.parametrize('method', ['svd', 'schur'])
def test_strict_subspace_is_the_closed_form(method):
    projector = equivariant_projector('SO2', SPACE, SPACE, softness=0.0, method=method)
    assert projector.certificate.kept == 3 and projector.certificate.null_dim == 3
    assert projector.certificate.bound == pytest.approx(0.0, abs=1e-12)
    # Closed form: W = [[a, -b, 0], [b, a, 0], [0, 0, c]].
    basis = np.stack([np.array(m, float).reshape(-1, order='F') for m in (
        [[1, 0, 0], [0, 1, 0], [0, 0, 0]], [[0, -1, 0], [1, 0, 0], [0, 0, 0]],
        [[0, 0, 0], [0, 0, 0], [0, 0, 1]])], axis=1)
    orthonormal, _ = np.linalg.qr(basis)
    np.testing.assert_allclose(projector.to_dense(), orthonormal @ orthonormal.T, atol=1e-12)


@pytest.mark.parametrize('tau', [1.0, 1.5, 1.999])
def test_a_cutoff_in_one_to_two_keeps_seven_directions(tau):
    for method in ('svd', 'schur'):
        certificate = equivariant_projector('SO2', SPACE, SPACE, tau=tau, method=method).certificate
        assert certificate.kept == 7
        assert certificate.bound == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize('cutoff', [dict(softness=0.0), dict(softness=0.5), dict(tau=1.2),
                                    dict(softness=1.0), dict(tau=1.0, cutoff='smooth', decay=0.7)])
def test_svd_and_schur_routes_give_the_same_projector(cutoff):
    svd = equivariant_projector('SO2', SPACE, SPACE, method='svd', **cutoff).to_dense()
    schur = equivariant_projector('SO2', SPACE, SPACE, method='schur', **cutoff).to_dense()
    np.testing.assert_allclose(svd, schur, atol=1e-10)
