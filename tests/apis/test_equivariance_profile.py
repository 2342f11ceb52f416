"""``profile_equivariance`` and ``check_equivariance``: hand-built networks with a known
answer (a C4-symmetric conv is equivariant under quarter turns; for two linear convs the
attribution has a closed form), and the real demo SegFormer / ResNet classifier."""
import math
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmsofteq.apis.equivariance_profile import (certificate_notes, check_equivariance,
                                                group_angles, profile_equivariance,
                                                suggested_softeq)
from mmsofteq.nn import softeq_report


def _c4_symmetric(kernel):
    """The C4 orbit average of a ``(O, I, k, k)`` kernel: ``rot90``-invariant."""
    return sum(torch.rot90(kernel, turns, dims=(-2, -1)) for turns in range(4)) / 4


class _Net(nn.Module):
    """Convs with padding k // 2 (odd inputs keep the centre): ``forward(x, mode='tensor')``
    as mmseg/mmpretrain models."""

    def __init__(self, kernels, relu=False):
        super().__init__()
        self.convs = nn.ModuleList()
        for kernel in kernels:
            conv = nn.Conv2d(kernel.shape[1], kernel.shape[0], kernel.shape[-1],
                             padding=kernel.shape[-1] // 2, bias=False)
            conv.weight = nn.Parameter(kernel.clone())
            self.convs.append(conv)
        self.relu = nn.ReLU() if relu else None

    def forward(self, x, mode='tensor'):
        assert mode == 'tensor'
        for conv in self.convs:
            x = conv(x)
            if self.relu is not None:
                x = self.relu(x)
        return x


def _kernels(seed, shapes):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(*shape, generator=generator, dtype=torch.float64) for shape in shapes]


def test_a_c4_symmetric_network_passes_the_check_and_a_generic_one_fails():
    kernels = _kernels(0, [(4, 3, 3, 3), (5, 4, 3, 3)])
    symmetric = _Net([_c4_symmetric(k) for k in kernels], relu=True).double()
    errors = check_equivariance(symmetric, 'C4', torch.randn(2, 3, 15, 15, dtype=torch.float64))
    assert set(errors) == {90.0, 180.0, 270.0} and max(errors.values()) < 1e-12
    generic = _Net(kernels, relu=True).double()
    with pytest.raises(AssertionError, match=r'not C4-equivariant within 0.0001 .*90°'):
        check_equivariance(generic, 'C4', torch.randn(2, 3, 15, 15, dtype=torch.float64))


def test_group_angles_and_bad_groups():
    assert group_angles('C4') == (90.0, 180.0, 270.0)
    assert group_angles('c8')[:2] == (45.0, 90.0)
    with pytest.raises(ValueError, match="'C<n>'"):
        group_angles('D4')


def test_the_attribution_of_two_linear_convs_has_the_closed_form():
    """F = B∘A: E = B(AR − RA)x + (BR − RB)Ax; call A owns the first term, B the second, each
    measured along E and divided by ‖R F(x)‖ (computed here with conv2d and rot90)."""
    a, b = _kernels(1, [(4, 3, 3, 3), (2, 4, 5, 5)])
    net = _Net([a, b]).double()
    x = torch.randn(3, 3, 13, 13, dtype=torch.float64, generator=torch.Generator().manual_seed(2))

    def conv(kernel, z):
        return F.conv2d(z, kernel, padding=kernel.shape[-1] // 2)

    def rot(z):
        return torch.rot90(z, 1, dims=(-2, -1))
    error = conv(b, conv(a, rot(x))) - rot(conv(b, conv(a, x)))
    term_a = conv(b, conv(a, rot(x)) - rot(conv(a, x)))
    term_b = conv(b, rot(conv(a, x))) - rot(conv(b, conv(a, x)))
    scale = error.norm() * rot(conv(b, conv(a, x))).norm()
    profile = profile_equivariance(net, x, angles=(90.0, )).angles[0]
    assert profile.end_to_end == pytest.approx(float(error.norm() / conv(b, conv(a, x)).norm()),
                                               rel=1e-9)
    contributions = [call.contribution for call in profile.calls]
    assert contributions == pytest.approx([float((term_a * error).sum() / scale),
                                           float((term_b * error).sum() / scale)], rel=1e-9)
    assert profile.glue == pytest.approx(0.0, abs=1e-12)
    assert profile.calls[0].error == pytest.approx(
        float((conv(a, rot(x)) - rot(conv(a, x))).norm() / conv(a, x).norm()), rel=1e-9)


def test_an_equivariant_layer_gets_no_share_and_a_shared_module_is_two_calls():
    """[symmetric, generic, symmetric] with one ReLU module used three times: the symmetric
    convs and every ReLU call contribute nothing under a quarter turn; the generic conv
    everything."""
    s1, g, s2 = _kernels(3, [(4, 3, 3, 3), (4, 4, 3, 3), (2, 4, 3, 3)])
    net = _Net([_c4_symmetric(s1), g, _c4_symmetric(s2)], relu=True).double()
    x = torch.randn(2, 3, 11, 11, dtype=torch.float64)
    profile = profile_equivariance(net, x, angles=(90.0, ))
    calls = {call.name: call for call in profile.angles[0].calls}
    assert list(calls) == ['convs.0', 'relu', 'convs.1', 'relu#2', 'convs.2', 'relu#3']
    for name in ('convs.0', 'relu', 'relu#2', 'convs.2', 'relu#3'):
        assert abs(calls[name].contribution) < 1e-12, name
    assert calls['convs.0'].error < 1e-12
    assert calls['convs.1'].contribution == pytest.approx(profile.angles[0].end_to_end,
                                                          rel=1e-9)
    assert profile.top(1)[0][0] == 'convs.1'


@pytest.mark.parametrize('config, size', [
    ('configs/demo/segformer_softeq_demo.py', 33),
    ('configs/demo/resnet_softeq_digits_cls.py', 32)])
def test_real_models_every_call_mapped_and_the_shares_add_up(config, size):
    """The demo SegFormer (tokens between maps, spatial-reduction grids) and the ResNet
    classifier (a vector output): the contributions and the glue sum to the end-to-end
    error at a quarter turn and at a finite angle; projected convs are flagged."""
    from mmengine.config import Config

    from mmsofteq.apis import build_model_from_config
    model = build_model_from_config(Config.fromfile(config), quiet=True)
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(0))
    profile = profile_equivariance(model, x, angles=(90.0, 22.5))
    assert profile.unmapped == ()
    for angle in profile.angles:
        total = math.fsum(call.contribution for call in angle.calls) + angle.glue
        assert total == pytest.approx(angle.end_to_end, rel=1e-5)
        assert angle.end_to_end > 0.01
    assert any(call.projected for call in profile.angles[0].calls)
    assert math.fsum(profile.stages().values()) == pytest.approx(
        math.fsum(p.end_to_end - p.glue for p in profile.angles) / 2, rel=1e-5)
    assert 'end to end' in profile.table(limit=5)
    suggestion = suggested_softeq(profile, model, count=len(profile.angles[0].calls)) or ''
    projected = {call.name for call in profile.angles[0].calls if call.projected}
    assert not any(f"'^{re.escape(name)}" in suggestion for name in projected)
    notes = certificate_notes(softeq_report(model))
    assert set(notes) == projected  # every projected call carries its certificate
    assert all(note.startswith('β=') for note in notes.values())


def test_the_suggestion_names_unprojected_convs_with_a_positive_share():
    kernels = _kernels(4, [(4, 3, 3, 3), (4, 4, 1, 1), (2, 4, 3, 3)])
    net = _Net([kernels[0], kernels[1], _c4_symmetric(kernels[2])]).double()
    profile = profile_equivariance(net, torch.randn(2, 3, 11, 11, dtype=torch.float64),
                                   angles=(90.0, ))
    assert suggested_softeq(profile, net, count=3) == (
        "softeq=dict(group='SO2', softness=0.8, include=[r'^convs\\.0\\.weight$'])")


class _ChannelsLast(nn.Module):
    """C4-symmetric conv, then a point-wise Linear on ``(B, h, w, C)`` (as ConvNeXt), back."""

    def __init__(self, kernel):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.conv.weight = nn.Parameter(_c4_symmetric(kernel))
        self.pointwise = nn.Linear(4, 5).double()

    def forward(self, x, mode='tensor'):
        return self.pointwise(self.conv(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def test_channels_last_maps_are_rotated_over_their_spatial_axes():
    """The Linear's ``(B, h, w, C)`` output of an exactly C4-equivariant network has error 0
    under a quarter turn once its spatial axes are found (over (w, C) it would be large)."""
    net = _ChannelsLast(_kernels(5, [(4, 3, 3, 3)])[0])
    profile = profile_equivariance(net, torch.randn(2, 3, 9, 9, dtype=torch.float64),
                                   angles=(90.0, ))
    calls = {call.name: call for call in profile.angles[0].calls}
    assert profile.unmapped == () and calls['pointwise'].shape == (2, 9, 9, 5)
    assert calls['pointwise'].error < 1e-12 and profile.angles[0].end_to_end < 1e-12


def test_tokens_take_the_grid_that_fits_without_leading_tokens():
    """9 tokens after a 1x1 and a 3x3 map (SegFormer's spatial reduction at 33 px): the 3x3
    grid with no leading token, not 8 unrotated tokens on the 1x1 one."""
    from mmsofteq.apis.equivariance_profile import _Action
    action = _Action(90.0, (33, 33))
    assert action.layout(torch.zeros(2, 9, 16), [(1, 1), (3, 3)]) == ('tokens', 0, 3, 3)
    assert action.layout(torch.zeros(2, 10, 16), [(3, 3), (1, 1)]) == ('tokens', 1, 3, 3)
    assert action.layout(torch.zeros(2, 9, 16, 5), []) is None  # no axes with the frame's ratio


def test_a_call_with_a_zero_output_is_listed_and_the_top_table_works():
    """A zero conv (as a zero-initialised residual branch): its error is undefined (nan), its
    share 0; ``table(limit=...)`` lists it instead of failing."""
    first, zero = _kernels(6, [(4, 3, 3, 3), (2, 4, 3, 3)])
    net = _Net([first, torch.zeros_like(zero)]).double()
    profile = profile_equivariance(net, torch.randn(1, 3, 9, 9, dtype=torch.float64),
                                   angles=(90.0, ))
    calls = {call.name: call for call in profile.angles[0].calls}
    assert math.isnan(calls['convs.1'].error) and calls['convs.1'].contribution == 0.0
    assert 'convs.1' in profile.table(limit=2)


def test_bad_inputs_are_refused():
    net = _Net(_kernels(7, [(2, 3, 3, 3)])).double()
    with pytest.raises(ValueError, match=r'inputs must be \(B, C, H, W\)'):
        profile_equivariance(net, torch.randn(3, 9, 9, dtype=torch.float64))
    with pytest.raises(ValueError, match="'C<n>' \\(n >= 2\\) or 'SO2'"):
        check_equivariance(net, 'O2')


def test_the_default_angles_are_the_quarter_turn_and_the_evaluations_quartile_midpoints():
    """U(−30°, 30°) in four quarters of 15°: their midpoints ±7.5°, ±22.5° (hand values)."""
    from mmsofteq.apis.equivariance_profile import PROFILE_ANGLES
    assert PROFILE_ANGLES == (90.0, -22.5, -7.5, 7.5, 22.5)
