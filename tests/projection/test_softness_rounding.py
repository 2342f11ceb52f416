"""Softness that tunes for discrete groups ('frequency' rounding), the paper's discretisation
('bilinear'), its keep-count rule ('index') and its smooth mask ('smooth_paper')."""
import math

import numpy as np
import pytest

from mmsofteq.groups import (GridSpace, bilinear_rotation_operator, parse_group,
                             quarter_turn_operator, reflection_operator)
from mmsofteq.projection import Cutoff, equivariant_projector, invariant_projector, select
from mmsofteq.projection.cutoff import PAPER_SMOOTH_EPSILON

SOFTNESS = [round(0.01 * i, 2) for i in range(101)]


def group_elements(group, k):
    """Every element of C4 / D4 on the k x k grid (exact permutations)."""
    turn, flip = quarter_turn_operator(k), reflection_operator(k)
    rotations = [np.linalg.matrix_power(turn, j) for j in range(4)]
    return rotations + ([r @ flip for r in rotations] if group.startswith('D') else [])


@pytest.mark.parametrize('group', ['C4', 'D4'])
@pytest.mark.parametrize('k', [7, 14, 16])
def test_discrete_groups_tune_finely_and_stay_exactly_group_commuting(group, k):
    counts = []
    elements = group_elements(group, k)
    for softness in SOFTNESS:
        projector = invariant_projector(group, k, softness=softness)
        counts.append(projector.certificate.kept)
        for element in elements:
            assert np.abs(element @ projector.matrix - projector.matrix @ element).max() <= 1e-10
    assert len(set(counts)) >= k * k / 10, counts
    assert all(np.diff(counts) >= 0), counts
    strict = invariant_projector(group, k, softness=0.0).matrix
    invariant_dim = round(np.trace(sum(elements) / len(elements)))  # dim of the fixed space
    assert round(np.trace(strict)) == invariant_dim == counts[0]
    for element in elements:  # s = 0: every kept direction is fixed by the group
        assert np.abs(element @ strict - strict).max() <= 1e-10
    assert invariant_projector(group, k, softness=1.0).is_identity and counts[-1] == k * k
    assert not invariant_projector(group, k, softness=0.9).is_identity


def test_the_old_cluster_rule_is_coarse_and_kept_by_name():
    counts = [invariant_projector('C4', 14, softness=s, rounding='cluster').certificate.kept
              for s in (0, 0.25, 0.5, 0.75, 0.9, 0.95, 1)]
    assert counts == [49, 147, 147, 196, 196, 196, 196]
    assert invariant_projector('C4', 14, softness=0.9, rounding='cluster').is_identity


def test_frequency_keeps_low_angular_frequencies_first():
    """Inside the partly kept σ = √2 cluster of C4, the kept directions have lower angular
    frequencies ω (of Lᵀ L) than the dropped ones."""
    from mmsofteq.groups import frequency_operator
    k = 9
    generators = parse_group('C4').generators(GridSpace(k))
    values, vectors = np.linalg.eigh(sum(g.matrix @ g.matrix.T for g in generators))
    cluster = vectors[:, np.isclose(values, 2.0)]                     # σ = √2
    projector = invariant_projector('C4', k, softness=0.45).matrix
    inside, split = np.linalg.eigh(cluster.T @ projector @ cluster)    # 1: kept, 0: dropped
    assert set(np.round(inside, 8)) == {0.0, 1.0}                      # the cut runs inside
    kept, dropped = cluster @ split[:, inside > 0.5], cluster @ split[:, inside < 0.5]
    frequency = frequency_operator(GridSpace(k))
    highest_kept = np.linalg.eigvalsh(kept.T @ frequency @ kept).max()
    lowest_dropped = np.linalg.eigvalsh(dropped.T @ frequency @ dropped).min()
    assert highest_kept <= lowest_dropped + 1e-9


def test_dihedral_needs_every_reflection_of_the_square():
    """One rotation and one flip give a Gram that conjugation moves (F R F = R⁻¹): the
    projector from it does not commute with D4; all four reflections fix that."""
    from mmsofteq.projection import build_invariant_projector
    k = 14
    group = parse_group('D4')
    cutoff = Cutoff(softness=0.5, rounding='cluster')
    plain = build_invariant_projector('D4', group.generators(GridSpace(k)), cutoff, 'svd')
    closed = build_invariant_projector(
        'D4', group.generators(GridSpace(k), all_reflections=True), cutoff, 'svd')
    elements = group_elements('D4', k)
    assert max(np.abs(e @ plain.matrix - plain.matrix @ e).max() for e in elements) > 0.1
    assert max(np.abs(e @ closed.matrix - closed.matrix @ e).max() for e in elements) < 1e-10


@pytest.mark.parametrize('softness', [0.3, 0.7])
def test_o2_commutes_with_the_exact_symmetries_of_the_square(softness):
    projector = invariant_projector('O2', 10, softness=softness)
    for element in group_elements('D4', 10):
        assert np.abs(element @ projector.matrix - projector.matrix @ element).max() <= 1e-10


# ----------------------------------------------------------------------------- the paper's


def test_bilinear_operator_is_the_papers_construction():
    for k in (4, 7, 14):
        np.testing.assert_allclose(bilinear_rotation_operator(k, math.pi / 2),
                                   quarter_turn_operator(k), atol=1e-12)
    # D = (R − I)/(2π/n) is not normal, ‖DDᵀ − DᵀD‖_F / ‖D‖_F² = 0.037 / 0.016
    for n, k, ratio in ((36, 7, 0.037), (720, 14, 0.016)):
        (generator, ) = parse_group(f'C{n}').generators(GridSpace(k), discretisation='bilinear')
        d = generator.matrix
        assert np.linalg.norm(d @ d.T - d.T @ d) / np.linalg.norm(d) ** 2 == pytest.approx(
            ratio, abs=5e-4)
        assert generator.step == pytest.approx(2 * math.pi / n)
        # strict, data side: the constant field only; kernel side: the one w with Rᵀ w = w
        constant = np.ones(k * k) / k
        strict = invariant_projector(f'C{n}', k, softness=0.0, generator='bilinear',
                                     side='data').matrix
        np.testing.assert_allclose(strict, np.outer(constant, constant), atol=1e-8)
        strict = invariant_projector(f'C{n}', k, softness=0.0, generator='bilinear').matrix
        assert round(np.trace(strict)) == 1
        assert np.abs(d.T @ strict).max() <= 1e-10


@pytest.mark.parametrize('group, k, softness, side, kept', [
    ('C720', 14, 0.9, 'data', 175), ('C720', 14, 0.95, 'kernel', 185),
    ('C36', 7, 0.95, 'kernel', 45), ('C36', 8, 0.95, 'kernel', 59),
    ('C36', 4, 0.95, 'kernel', 14), ('C4', 14, 0.5, 'kernel', 122),
    ('C4', 14, 0.9, 'kernel', 180), ('C4', 14, 0.95, 'kernel', 187),
    ('C4', 7, 0.9, 'kernel', 44), ('C4', 7, 0.95, 'kernel', 46)])
def test_the_papers_keep_counts(group, k, softness, side, kept):
    """The authors' keep-count rule, with the paper's discretisation and its index-count rule."""
    projector = invariant_projector(group, k, softness=softness, generator='bilinear',
                                    rounding='index', side=side)
    assert projector.certificate.kept == kept
    assert projector.certificate.generator == 'bilinear'


def test_sides_coincide_for_normal_generators_and_differ_for_bilinear():
    for group in ('SO2', 'C4', 'D4'):
        kernel = invariant_projector(group, 7, softness=0.6)
        data = invariant_projector(group, 7, softness=0.6, side='data')
        np.testing.assert_allclose(kernel.matrix, data.matrix, atol=1e-9)
    kernel = invariant_projector('C36', 7, softness=0.6, generator='bilinear')
    data = invariant_projector('C36', 7, softness=0.6, generator='bilinear', side='data')
    assert np.abs(kernel.matrix - data.matrix).max() > 1e-3


@pytest.mark.parametrize('side', ['kernel', 'data'])
def test_bilinear_certificate_bounds_the_papers_own_rotation(side):
    """β bounds ‖(R − I)ᵀ w‖ (kernels) or ‖(R − I) p‖ (grids) by t·β·‖θ‖, t = 2π/n."""
    n, k = 36, 7
    rotation = bilinear_rotation_operator(k, 2 * math.pi / n) - np.eye(k * k)
    theta = np.random.default_rng(0).normal(size=(20, k * k))
    for softness in (0.2, 0.6, 0.9):
        projector = invariant_projector(f'C{n}', k, softness=softness, generator='bilinear',
                                        side=side)
        effective = theta @ projector.matrix
        change = effective @ rotation if side == 'kernel' else effective @ rotation.T
        bound = (2 * math.pi / n) * projector.certificate.bound
        assert (np.linalg.norm(change, axis=1) <=
                bound * np.linalg.norm(theta, axis=1) + 1e-10).all()


def test_smooth_masks_follow_their_formulas():
    """Weights read off P on a hand case: C4 on 5 x 5, whose constraint has σ ∈ {0, √2, 2}."""
    k, softness = 5, 0.4
    generators = parse_group('C4').generators(GridSpace(k))
    sigmas = np.sqrt(np.clip(np.linalg.eigvalsh(sum(g.matrix @ g.matrix.T for g in generators)),
                             0, None))
    assert sorted(set(np.round(sigmas ** 2, 8))) == [0.0, 2.0, 4.0]

    def weights_of(projector):
        values = np.linalg.eigvalsh(projector.matrix)
        return np.sort(values)

    paper = invariant_projector('C4', k, softness=softness, cutoff='smooth_paper',
                                generator='spectral')
    hard = invariant_projector('C4', k, softness=softness, generator='spectral')
    kept = hard.certificate.kept
    # the paper's mask: kept 1, others exp(−σ/(s + 1e-6)); which σ each dropped one has
    # follows from the counts: the √2 cluster (12 directions here) is cut, then all σ = 2
    sigma_count = {round(s ** 2): int(np.sum(np.isclose(sigmas ** 2, s ** 2)))
                   for s in (0.0, math.sqrt(2), 2.0)}
    dropped_sqrt2 = sigma_count[0] + sigma_count[2] - kept
    expected = np.sort(np.concatenate([
        np.ones(kept),
        np.full(dropped_sqrt2, math.exp(-math.sqrt(2) / (softness + PAPER_SMOOTH_EPSILON))),
        np.full(sigma_count[4], math.exp(-2.0 / (softness + PAPER_SMOOTH_EPSILON)))]))
    np.testing.assert_allclose(weights_of(paper), expected, atol=1e-9)
    # ours keeps whole σ clusters: the √2 cluster the count falls in is damped as a whole,
    # from τ = the largest kept σ (here 0): exp(−√2/decay), and σ = 2 gets exp(−2/decay)
    decay = 0.8
    ours = invariant_projector('C4', k, softness=softness, cutoff='smooth', decay=decay,
                               generator='spectral')
    expected = np.sort(np.concatenate([
        np.ones(sigma_count[0]), np.full(sigma_count[2], math.exp(-math.sqrt(2) / decay)),
        np.full(sigma_count[4], math.exp(-2.0 / decay))]))
    assert ours.certificate.kept == sigma_count[0]
    np.testing.assert_allclose(weights_of(ours), expected, atol=1e-9)
    assert 0 < dropped_sqrt2 < sigma_count[2]


def test_smooth_mask_offset_on_the_grid_route():
    """C4 on 5 x 5, tau = 1.5: the rotation by a quarter turn R has eigenvalues 1 (7 = the
    orbit count (25 − 1)/4 + 1), −1 (6), ±i (6 each); the constraint R − I has σ = |λ − 1|, so
    σ = 0 (7), √2 (12), 2 (6). Both σ ≤ 1.5 clusters are kept whole, τ = √2, and the six σ = 2
    directions get exp(−(2 − √2)/decay) (exp(−2/decay) without the offset)."""
    decay = 0.8
    projector = invariant_projector('C4', 5, tau=1.5, cutoff='smooth', decay=decay,
                                    generator='spectral')
    expected = np.sort([math.exp(-(2 - math.sqrt(2)) / decay)] * 6 + [1.0] * 19)
    np.testing.assert_allclose(np.linalg.eigvalsh(projector.matrix), expected, atol=1e-9)
    assert projector.certificate.kept == 19


def test_selection_rules_on_a_hand_spectrum():
    sigmas = np.array([0.0, 1.0, 1.0, 1.0, 1.0, 2.0])
    omega = np.array([0.0, 3.0, 1.0, 2.0, 1.0, 5.0])
    # s = 0.4: target 1 + floor(4 * 0.4) = 2 directions
    frequency = select(sigmas, Cutoff(softness=0.4), omega).kept
    assert frequency.tolist() == [True, False, True, False, True, False]  # ω = 1 tie kept
    cluster = select(sigmas, Cutoff(softness=0.4, rounding='cluster'), omega).kept
    assert cluster.tolist() == [True, True, True, True, True, False]
    index = select(sigmas, Cutoff(softness=0.4, rounding='index'), omega).kept
    assert index.tolist() == [True, True, False, False, False, False]  # the solver's order


def test_the_index_rule_counts_from_the_smallest_sigma_not_the_solvers_first():
    """The paper's rule keeps ``z + int((n − z − 1)·s)`` directions of smallest ``σ`` (ties in
    the solver's order), whatever order the solver returns them in. Hand case: σ = (2, 0, 1,
    0.5, 1, 0), s = 0.4: z = 2, count = 2 + int(3 · 0.4) = 3, so the two zeros and 0.5 are
    kept and τ = 0.5 (the solver's first three would give τ = 2, a doubled bound)."""
    sigmas = np.array([2.0, 0.0, 1.0, 0.5, 1.0, 0.0])
    selection = select(sigmas, Cutoff(softness=0.4, rounding='index'))
    assert selection.kept.tolist() == [False, True, False, True, False, True]
    assert selection.tau == 0.5
    # a tie at the cut: σ = (1, 0, 1, 1), s = 0.5: z = 1, count = 1 + int(2 · 0.5) = 2, the
    # zero and the first 1 in the solver's order
    tie = select(np.array([1.0, 0.0, 1.0, 1.0]), Cutoff(softness=0.5, rounding='index'))
    assert tie.kept.tolist() == [True, True, False, False]


@pytest.mark.parametrize('kwargs, message', [
    (dict(generator='fourier'), r"generator must be one of \('resampled', 'spectral', 'bilinear'\)"),
    (dict(generator='bilinear', group='SO2'), "discretisation of a cyclic or dihedral group"),
    (dict(side='left'), r"side must be one of \('kernel', 'data'\)"),
    (dict(rounding='up'), r"rounding must be one of \('frequency', 'cluster', 'index'\)"),
    (dict(cutoff='smooth_paper', softness=None, tau=1.0), "needs softness, not tau"),
    (dict(rounding='index', softness=None, tau=1.0), "rounding='index' counts directions"),
    (dict(cutoff='smooth', decay=math.inf), 'finite decay > 0'),
])
def test_bad_arguments_name_the_key_and_the_allowed_values(kwargs, message):
    arguments = dict(group='C4', space=5, softness=0.5)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        invariant_projector(arguments.pop('group'), arguments.pop('space'), **arguments)


def test_bilinear_needs_a_grid():
    from mmsofteq.groups import VectorSpace
    with pytest.raises(ValueError, match='acts on grids only'):
        parse_group('C4').generators(VectorSpace(2), discretisation='bilinear')


def test_bilinear_equivariant_maps_use_the_dense_svd_of_the_papers_constraint():
    from mmsofteq.projection import constraint_matrix
    projector = equivariant_projector('C36', 3, 4, softness=0.0, generator='bilinear')
    assert projector.certificate.generator == 'bilinear' and projector.certificate.method == 'svd'
    (d_in, ) = parse_group('C36').generators(GridSpace(3), discretisation='bilinear')
    (d_out, ) = parse_group('C36').generators(GridSpace(4), discretisation='bilinear')
    weight = projector.apply(np.random.default_rng(0).normal(size=(16, 9)))
    residual = constraint_matrix(d_in.matrix, d_out.matrix) @ weight.reshape(-1, order='F')
    assert np.abs(residual).max() <= 1e-9 and np.linalg.norm(weight) > 0
