"""The paper's worked example (Appendix D.2): rotations about z acting on R³, 3x3 maps."""
import math

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


# ------------------------------------------------- the smooth masks on the D.2 spectrum (by hand)
# σ = (0, 0, 0, 1, 1, 1, 1, 2, 2). The weights are the eigenvalues of the (symmetric) dense P.


def mask_values(projector):
    return np.sort(np.linalg.eigvalsh(projector.to_dense()))


@pytest.mark.parametrize('method', ['svd', 'schur'])
@pytest.mark.parametrize('level', [dict(tau=1.2), dict(tau=1.0), dict(softness=0.5),
                                   dict(softness=0.5, rounding='cluster')])
def test_smooth_mask_is_offset_by_the_threshold(method, level):
    """cutoff='smooth': kept 1, others exp(−(σ − τ)/decay), τ the largest σ whose whole cluster
    is kept. Here the σ ≤ 1 clusters are kept (τ ≥ 1, or s = 0.5: 3 + floor(5·0.5) = 5 rounded
    up to the end of the σ = 1 cluster), so τ = 1 and the σ = 2 pair gets exp(−1/decay), not
    exp(−2/decay) (no offset) nor exp(−(2 − 1.2)/decay) (offset by the given tau)."""
    decay = 0.7
    projector = equivariant_projector('SO2', SPACE, SPACE, cutoff='smooth', decay=decay,
                                      method=method, **level)
    expected = sorted([math.exp(-(2.0 - 1.0) / decay)] * 2 + [1.0] * 7)
    np.testing.assert_allclose(mask_values(projector), expected, atol=1e-10)
    assert projector.certificate.kept == 7


@pytest.mark.parametrize('method', ['svd', 'schur'])
def test_smooth_paper_mask_is_not_offset(method):
    """cutoff='smooth_paper' (the paper's code): others exp(−σ/(s + 1e-6)), σ itself."""
    softness = 0.5
    projector = equivariant_projector('SO2', SPACE, SPACE, softness=softness,
                                      cutoff='smooth_paper', method=method)
    expected = sorted([math.exp(-2.0 / (softness + 1e-6))] * 2 + [1.0] * 7)
    np.testing.assert_allclose(mask_values(projector), expected, atol=1e-10)


def test_smooth_weights_on_the_spectrum_with_a_partly_kept_cluster():
    """select/weights on the D.2 spectrum with a secondary key ω that splits the σ = 1 cluster:
    s = 0.4 counts 3 + floor(5·0.4) = 5 directions, inside the σ = 1 cluster. The smooth mask
    keeps whole σ clusters: only the three σ = 0 directions have weight 1, τ = 0, σ = 1 gets
    exp(−1/decay) and σ = 2 exp(−2/decay). At s = 0.8 (3 + 4 = 7) the σ = 1 cluster is whole:
    τ = 1 and σ = 2 gets exp(−1/decay). The hard cutoff at 0.4 keeps the ω = 1 half."""
    from mmsofteq.projection import Cutoff, select
    from mmsofteq.projection.cutoff import weights
    sigmas = np.array([0.0, 0, 0, 1, 1, 1, 1, 2, 2])
    omega = np.array([0.0, 0, 0, 2, 1, 2, 1, 0, 0])
    decay = 0.6
    hard = select(sigmas, Cutoff(softness=0.4), omega)
    assert hard.kept.tolist() == [True] * 3 + [False, True, False, True] + [False] * 2
    partly = Cutoff(softness=0.4, kind='smooth', decay=decay)
    selection = select(sigmas, partly, omega)
    assert selection.kept.tolist() == [True] * 3 + [False] * 6
    assert selection.tau == 0.0
    e1, e2 = math.exp(-1.0 / decay), math.exp(-2.0 / decay)
    np.testing.assert_allclose(weights(sigmas, partly, selection), [1] * 3 + [e1] * 4 + [e2] * 2,
                               atol=1e-15)
    whole = Cutoff(softness=0.8, kind='smooth', decay=decay)
    selection = select(sigmas, whole, omega)
    assert selection.tau == 1.0
    np.testing.assert_allclose(weights(sigmas, whole, selection), [1] * 7 + [e1, e1],
                               atol=1e-15)
    paper = Cutoff(softness=0.4, kind='smooth_paper')
    selection = select(sigmas, paper, omega)
    e1, e2 = math.exp(-1.0 / (0.4 + 1e-6)), math.exp(-2.0 / (0.4 + 1e-6))
    np.testing.assert_allclose(weights(sigmas, paper, selection),
                               [1, 1, 1, e1, 1, e1, 1, e2, e2], atol=1e-15)
