"""Bad arguments raise ValueError naming the argument and the allowed values."""
import numpy as np
import pytest
import torch

from mmsofteq.projection import Cutoff, equivariant_projector, invariant_projector


@pytest.mark.parametrize('softness', [-0.1, 1.5, float('nan'), '0.5', True])
def test_softness_outside_unit_interval(softness):
    with pytest.raises(ValueError, match=r'softness must be a number in \[0, 1\]'):
        invariant_projector('C4', 3, softness=softness)


def test_softness_and_tau_are_exclusive_and_one_is_required():
    with pytest.raises(ValueError, match='exactly one of softness'):
        invariant_projector('C4', 3, softness=0.5, tau=1.0)
    with pytest.raises(ValueError, match='exactly one of softness'):
        invariant_projector('C4', 3)
    with pytest.raises(ValueError, match='tau must be a number >= 0'):
        invariant_projector('C4', 3, tau=-1.0)


def test_cutoff_kind_and_decay():
    with pytest.raises(ValueError, match=r"cutoff must be one of \('hard', 'smooth', 'smooth_paper'\)"):
        Cutoff(softness=0.5, kind='soft')
    with pytest.raises(ValueError, match='finite decay > 0'):
        invariant_projector('C4', 3, softness=0.5, cutoff='smooth')
    with pytest.raises(ValueError, match="only used with cutoff='smooth'"):
        invariant_projector('C4', 3, softness=0.5, decay=0.3)


def test_unknown_group_and_method():
    with pytest.raises(ValueError, match="unknown group 'Z4'.*'SO2', 'O2'"):
        invariant_projector('Z4', 3, softness=0.5)
    with pytest.raises(ValueError,
                       match=r"method must be one of \('auto', 'svd', 'schur', 'schur_paper'\)"):
        invariant_projector('C4', 3, softness=0.5, method='qr')


def test_non_square_grid():
    with pytest.raises(ValueError, match=r'space: grid_shape must be square'):
        invariant_projector('C4', (3, 4), softness=0.5)
    with pytest.raises(ValueError, match=r'space_out: grid_shape must be square'):
        equivariant_projector('C4', 3, (2, 5), softness=0.5)


def test_mismatched_weight_shapes():
    with pytest.raises(ValueError, match=r'weight must have last dimension N=9'):
        invariant_projector('C4', 3, softness=0.5).apply(torch.zeros(4, 16))
    with pytest.raises(ValueError, match=r'weight must have shape \(N_out, N_in\)=\(16, 9\)'):
        equivariant_projector('C4', 3, 4, softness=0.5).apply(np.zeros((9, 16)))


def test_schur_route_refuses_non_normal_generators():
    from mmsofteq.groups import Generator
    from mmsofteq.projection import build_equivariant_projector
    skewed = Generator(np.array([[0.0, 1.0], [0.0, 0.0]]), 'lie', 'nilpotent')
    with pytest.raises(ValueError, match='not normal'):
        build_equivariant_projector('custom', [skewed], [skewed], Cutoff(softness=0.0), 'schur')
    # 'auto' falls back to the dense SVD route for small maps
    projector = build_equivariant_projector('custom', [skewed], [skewed], Cutoff(softness=0.0),
                                            'auto')
    assert projector.certificate.method == 'svd'
