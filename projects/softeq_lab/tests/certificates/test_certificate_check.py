"""The certificate check: measured per-layer invariance error ≤ the projection report's bound.

Real tiny mmseg / mmpretrain models (SegFormer MiT, ResNet, ViT with a position grid), random
θ, several softness values; and the check must fail when a weight is not what the certificate
describes.
"""
from importlib import import_module
import numpy as np
import pytest
import torch
from softeq_lab.certificates.check import (check_model_certificates, check_rows, group_actions,
                                           relative_errors)
from softeq_lab.certificates.inputs import DigitPatches, ImagePatches, RandomPatches
from fixtures.tiny_models import build, mit, pretrain_resnet, pretrain_vit

from mmsofteq.groups import quarter_turn_operator, rotation_generator
from mmsofteq.nn import BUFFER_PREFIX, inject_soft_equivariance
from mmsofteq.projection import invariant_projector

SOURCES = {'random': RandomPatches(0), 'digits': DigitPatches(0)}


def report_tool():
    return import_module('softeq_lab.certificates.certificate_report')


def injected(scope, cfg, softeq, seed=0):
    torch.manual_seed(seed)
    model = build(scope, cfg)
    model.init_weights()
    inject_soft_equivariance(model, softeq, log=False)
    return model


def swin():
    """mmseg Swin with an absolute position grid and relative-position tables."""
    return dict(type='SwinTransformer', pretrain_img_size=32, embed_dims=8, depths=(1, 1),
                num_heads=(1, 1), strides=(4, 2), window_size=4, out_indices=(0, 1),
                use_abs_pos_embed=True)


def beit():
    """mmseg BEiT: relative-position tables with 3 trailing cls-token rows."""
    return dict(type='BEiT', img_size=32, patch_size=8, embed_dims=16, num_layers=1,
                num_heads=2, mlp_ratio=2, out_indices=(0, ))


MODELS = {
    'segformer': ('mmseg', mit),
    'resnet': ('mmpretrain', pretrain_resnet),
    'vit': ('mmpretrain', pretrain_vit),
    'swin': ('mmseg', swin),
    'beit': ('mmseg', beit),
}


@pytest.mark.parametrize('model_name', list(MODELS))
@pytest.mark.parametrize('group', ['SO2', 'C4'])
def test_measured_error_never_exceeds_the_bound(model_name, group):
    scope, cfg = MODELS[model_name]
    worst = {}
    # C4 spectra have few distinct values: at 0.95 the cutoff keeps everything on small grids
    levels = (0.0, 0.5, 0.95) if group == 'SO2' else (0.0, 0.25, 0.5)
    for softness in levels:
        model = injected(scope, cfg(), dict(group=group, softness=softness, min_kernel_size=2))
        checks = check_model_certificates(model, SOURCES, angles_deg=(10.0, 45.0), count=64)
        assert checks, 'nothing was projected'
        kinds = {check.kind for check in checks}
        if model_name == 'vit':
            assert 'pos_embed' in kinds and 'patch_embed' in kinds
        if model_name in ('swin', 'beit'):
            assert 'rel_pos' in kinds
        for check in checks:
            assert check.passed, (check.name, check.measured, check.bound)
            # the rotation measure bounds the weight only; the exact elements are checked
            assert all(np.isnan(error) for error in check.input_errors.values())
            assert check.exact_error <= check.exact_bound + check.tolerance
            # inputs never see more than the weight under an exact element (Cauchy-Schwarz)
            for label, errors in check.per_action.items():
                if label.startswith('exact'):
                    for source in SOURCES:
                        assert errors[source] <= errors['weight'] * (1 + 1e-9) + 1e-12
            before, after = check.asymmetry
            assert after <= before + 1e-6 and after <= check.bound + check.tolerance + 1e-6
        worst[softness] = max(check.weight_error for check in checks)
    assert worst[0.0] <= 1e-5                      # strict: invariant up to float32 rounding
    assert worst[levels[-1]] > 100 * max(worst[0.0], 1e-7)   # soft: a real, non-zero error


def test_check_fails_for_a_weight_the_certificate_does_not_describe():
    k = 5
    projector = invariant_projector('SO2', k, softness=0.2)
    theta = np.random.default_rng(0).normal(size=(40, k * k))
    actions = group_actions('SO2', k)
    honest = check_rows(theta @ projector.matrix, theta, actions,
                        bound=projector.certificate.bound, inputs={'random': RandomPatches()
                                                                   .patches(k, 32)},
                        exact_bound=projector.certificate.exact_bound)
    assert honest.passed and honest.weight_error > 0
    # the unprojected θ is not bounded by the certificate of P
    perturbed = check_rows(theta, theta, actions, bound=projector.certificate.bound,
                           exact_bound=projector.certificate.exact_bound)
    assert not perturbed.passed
    assert perturbed.weight_error > projector.certificate.bound
    # and the honest weight fails a bound that is too small
    too_small = check_rows(theta @ projector.matrix, theta, actions,
                           bound=0.5 * honest.weight_error,
                           exact_bound=projector.certificate.exact_bound)
    assert not too_small.passed


def test_model_check_fails_when_the_projector_buffer_is_tampered_with():
    model = injected('mmpretrain', pretrain_resnet(), dict(group='C4', softness=0.0))
    assert all(check.passed for check in check_model_certificates(model, count=8))
    conv = model.conv1
    buffer = conv._buffers[BUFFER_PREFIX + 'weight']
    conv._buffers[BUFFER_PREFIX + 'weight'] = torch.eye(buffer.shape[0], dtype=buffer.dtype)
    failed = [check for check in check_model_certificates(model, count=8) if not check.passed]
    assert [check.name for check in failed] == ['conv1.weight']
    assert failed[0].bound < 1e-12 and failed[0].weight_error > 0.1


def test_group_actions_are_the_generators_the_projector_was_built_from():
    actions = group_actions('SO2', 4, angles_deg=(30.0, ), generator='spectral')
    assert [a.label for a in actions] == ['so2 t=30°', 'rot90']
    assert actions[0].scale == pytest.approx(np.pi / 6)
    from scipy.linalg import expm
    assert np.allclose(actions[0].matrix, expm(np.pi / 6 * rotation_generator(4)))
    assert np.array_equal(actions[1].matrix, quarter_turn_operator(4)) and actions[1].scale == 1
    # the invariant projectors of reflection groups stack every reflection of the square
    assert [a.label for a in group_actions('D4', 3, generator='spectral')] == [
        'rot90', 'flip_x', 'rot90∘flip_x', 'rot180∘flip_x', 'rot270∘flip_x']
    # 'resampled': the rotation measure, then the exact elements (bounded by exact_bound)
    resampled = group_actions('O2', 3)
    assert [a.label for a in resampled][0] == 'asymmetry U(-30°,30°) and reflections'
    assert [a.bound for a in resampled] == ['bound'] + ['exact_bound'] * 5
    bilinear = group_actions('C36', 5, generator='bilinear')
    assert [a.label for a in bilinear] == ['bilinear_rot10']
    assert bilinear[0].scale == pytest.approx(np.pi / 18)  # the error per 10° step
    with pytest.raises(ValueError, match='non-zero'):
        group_actions('SO2', 3, angles_deg=(0.0, ), generator='spectral')


@pytest.mark.parametrize('group, k', [('SO2', 3), ('SO2', 8), ('O2', 5), ('C8', 6), ('D3', 4)])
def test_rotate_field_asymmetry_equals_the_quadratic_form_the_projector_orders_by(group, k):
    """Two implementations of the same expectation: the tool rotates each slice with
    ``rotate_field`` (torch grid_sample) and masks where the rotated ones field is 1; the
    projector's form Q_μ is assembled from sparse bilinear weights. They must agree."""
    from softeq_lab.certificates.check import measured_asymmetry

    from mmsofteq.groups import asymmetry_form, evaluation_measure, parse_group
    measure = evaluation_measure(parse_group(group))
    rows = np.random.default_rng(k).normal(size=(6, k * k))
    form = asymmetry_form(k, measure)
    expected = np.sqrt(np.einsum('ij,jk,ik->i', rows, form, rows))
    np.testing.assert_allclose(measured_asymmetry(rows, measure), expected, rtol=1e-9,
                               atol=1e-12)


def test_input_error_is_the_change_of_the_slice_response_to_a_rotated_patch():
    k = 3
    rows = np.random.default_rng(1).normal(size=(4, k * k))
    patch = np.random.default_rng(2).normal(size=(1, k * k))
    rot90 = group_actions('C4', k, generator='spectral')[0]
    rotated = np.rot90(patch.reshape(k, k)).reshape(1, -1)
    expected = (np.abs(rows @ rotated.T - rows @ patch.T).ravel()
                / (np.linalg.norm(rows, axis=1) * np.linalg.norm(patch))).max()
    assert relative_errors(rows, rows, rot90, patch) == pytest.approx(expected, rel=1e-12)


def test_patch_sources_are_seeded_real_and_non_flat(tmp_path):
    digits = DigitPatches(3).patches(7, 16)
    assert digits.shape == (16, 49) and np.array_equal(digits, DigitPatches(3).patches(7, 16))
    assert digits.min() >= 0 and digits.max() <= 1 and np.ptp(digits, axis=1).min() > 0
    assert DigitPatches(3).patches(37, 2).shape == (2, 37 * 37)
    from PIL import Image
    image = (np.random.default_rng(0).random((20, 30)) * 255).astype(np.uint8)
    Image.fromarray(image).save(tmp_path / 'a.png')
    source = ImagePatches.from_directory(str(tmp_path))
    assert source.patches(8, 5).shape == (5, 64)
    assert source.patches(40, 1).shape == (1, 1600)       # enlarged to fit
    with pytest.raises(ValueError, match='nearly'):
        ImagePatches([np.zeros((9, 9))]).patches(3, 2)


TINY_RESNET_CONFIG = """
_base_ = ['mmpretrain::resnet/resnet18_8xb32_in1k.py']
custom_imports = dict(imports=['mmsofteq'], allow_failed_imports=False)
model = dict(backbone=dict(stem_channels=8, base_channels=8, init_cfg=dict(
    type='Pretrained', checkpoint='https://example.invalid/never-downloaded.pth')),
    head=dict(in_channels=64))
softeq = dict(group='SO2', softness=0.9)
custom_hooks = [dict(type='mmsofteq.SoftEqHook', softeq=softeq)]
"""


def test_tool_prints_bound_and_measured_errors(tmp_path, capsys):
    config = tmp_path / 'config.py'
    config.write_text(TINY_RESNET_CONFIG)
    status = report_tool().main([str(config), '--count', '16', '--inputs', 'random', 'digits'])
    out = capsys.readouterr().out
    assert status == 0, out
    assert 'bound β' in out and 'random e_X' in out and 'digits e_X' in out
    assert 'backbone.conv1.weight' in out
    assert '17 projected tensor(s); measured <= bound for 17' in out
    # the rule column names the generator and the cutoff each bound was computed for
    header = next(line for line in out.splitlines() if 'bound β' in line).split()
    assert 'rule' in header
    assert 'resampled:hard(s=0.9,frequency)' in out


def test_tool_names_the_papers_discretisation_in_the_rule_column(tmp_path, capsys):
    """A bilinear C_n config with index rounding and the paper's smooth mask is reported as
    such, not as the default spectral rule."""
    config = tmp_path / 'config.py'
    config.write_text(TINY_RESNET_CONFIG.replace(
        "softeq = dict(group='SO2', softness=0.9)",
        "softeq = dict(group='C36', generator='bilinear', rounding='index', softness=0.9)"))
    status = report_tool().main([str(config), '--count', '4', '--inputs', 'random'])
    out = capsys.readouterr().out
    assert status == 0, out
    assert 'bilinear:hard(s=0.9,index)' in out and 'spectral:' not in out


def test_tool_checks_the_weights_of_a_checkpoint(tmp_path, capsys):
    from mmengine.config import Config

    from mmsofteq.apis import build_model_from_config
    config = tmp_path / 'config.py'
    config.write_text(TINY_RESNET_CONFIG)
    cfg = Config.fromfile(str(config))
    cfg.model.backbone.pop('init_cfg')
    model = build_model_from_config(cfg)
    state = model.state_dict()
    state['backbone.conv1.weight'] = torch.zeros_like(state['backbone.conv1.weight'])
    torch.save(dict(state_dict=state), tmp_path / 'zero_stem.pth')
    capsys.readouterr()                     # drop the build's logged projection report
    status = report_tool().main([str(config), '--checkpoint', str(tmp_path / 'zero_stem.pth'),
                                 '--count', '4', '--inputs', 'random'])
    out = capsys.readouterr().out
    assert status == 0, out
    assert 'zero_stem.pth' in out
    stem = next(line.split() for line in out.splitlines()
                if line.startswith('backbone.conv1.weight'))
    # an all-zero θ: no asymmetry, weight e_W 0, random e_X not bounded by the measure ('-'),
    # the exact elements' error 0
    assert stem[5] == '0%→0%' and stem[7:9] == ['0', '-'] and stem[10] == '0', out


@pytest.mark.parametrize('argv, message', [
    (['--count', '0'], '--count must be >= 1'),
    (['--inputs', 'random', 'no/such/folder'], "'no/such/folder' is none of them"),
    (['--angles', '30', '0'], '--angles must be non-zero'),
])
def test_tool_refuses_bad_arguments_before_building(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as error:
        report_tool().parse_args([str(tmp_path / 'config.py')] + argv)
    assert error.value.code == 2
    assert message in capsys.readouterr().err
