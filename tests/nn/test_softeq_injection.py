"""Rule tables on the real mmseg / mmpretrain backbones, config overrides, errors, report."""
import copy
import logging

import pytest
import torch
from fixtures.tiny_models import (build, classifier, mit, mmseg_resnet, mmseg_vit, pretrain_resnet,
                                  pretrain_vit)
from torch import nn

from mmsofteq.nn import (SoftEqConfig, inject_soft_equivariance, is_swapped, projected_parameters,
                         register_rules)
from mmsofteq.nn import rules as rules_module
from mmsofteq.nn import softeq_report


def summary(report):
    projected = {e.name: e.kind for e in report.projected if not e.identity}
    identity = {e.name: e.kind for e in report.projected if e.identity}
    untouched = {e.name: e.reason for e in report.untouched}
    return projected, identity, untouched


def test_segformer_rule_table():
    model = build('mmseg', mit())
    projected, identity, untouched = summary(
        inject_soft_equivariance(model, dict(group='SO2', softness=0.5), log=False))
    assert identity == {}
    assert {n for n, k in projected.items() if k == 'patch_embed'} == {
        f'layers.{i}.0.projection.weight' for i in range(4)}
    assert {n for n, k in projected.items() if k == 'conv'} == (
        {f'layers.{i}.1.0.attn.sr.weight' for i in range(3)}  # sr 8x8, 4x4, 2x2 (sr=1: none)
        | {f'layers.{i}.1.0.ffn.layers.1.weight' for i in range(4)})  # depthwise 3x3
    assert untouched == {f'layers.{i}.1.0.ffn.layers.{j}.weight': 'kernel 1x1 < min_kernel_size=2'
                         for i in range(4) for j in (0, 4)}


def test_mmseg_vit_rule_table():
    model = build('mmseg', mmseg_vit())
    report = inject_soft_equivariance(model, dict(group='SO2', softness=0.5), log=False)
    projected, _, untouched = summary(report)
    assert projected == {'patch_embed.projection.weight': 'patch_embed', 'pos_embed': 'pos_embed'}
    assert untouched == {}
    assert report.backbones == [('', 'mmseg.VisionTransformer')]


@pytest.mark.parametrize('scope, cfg, key, spatial', [
    ('mmseg', mmseg_resnet(), 'mmseg.ResNet', {'stem.0', 'stem.3', 'stem.6'}),
    ('mmpretrain', pretrain_resnet(), 'mmpretrain.ResNet', {'conv1'}),
])
def test_resnet_c4_strict_gives_exactly_invariant_kernels(scope, cfg, key, spatial):
    torch.manual_seed(0)
    model = build(scope, cfg)
    model.init_weights()
    convs = {name: m for name, m in model.named_modules() if isinstance(m, nn.Conv2d)}
    assert not all(torch.allclose(m.weight, torch.rot90(m.weight, 1, (2, 3)), atol=1e-3)
                   for m in convs.values())
    report = inject_soft_equivariance(model, dict(group='C4', softness=0.0), log=False)
    assert report.backbones == [('', key)]
    projected, _, untouched = summary(report)
    expected = {f'{name}.weight' for name, m in convs.items() if m.kernel_size[0] > 1}
    assert set(projected) == expected and spatial <= {n[:-len('.weight')] for n in projected}
    assert set(untouched) == {f'{name}.weight' for name, m in convs.items()
                              if m.kernel_size[0] == 1}
    for name, module in convs.items():
        weight = module.weight
        if f'{name}.weight' in projected:
            for turns in (1, 2, 3):
                assert torch.allclose(weight, torch.rot90(weight, turns, (2, 3)), atol=1e-6)
            assert weight.abs().max() > 0


def classifier_logits(out_type: str, softness: float) -> tuple:
    torch.manual_seed(0)
    model = build('mmpretrain', classifier(pretrain_vit(out_type=out_type), channels=16))
    model.init_weights()
    inject_soft_equivariance(model, dict(group='C4', softness=softness), log=False)
    model.eval()
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        return model(x, mode='tensor'), [model(torch.rot90(x, k, (2, 3)), mode='tensor')
                                         for k in (1, 2, 3)]


@pytest.mark.parametrize('out_type', ['cls_token', 'avg_featmap'])
def test_vit_classifier_strict_c4_is_rot90_invariant(out_type):
    logits, rotated = classifier_logits(out_type, softness=0.0)
    for other in rotated:
        assert torch.allclose(logits, other, atol=1e-5)
    # Control: the unprojected model (softness 1) is not invariant.
    logits, rotated = classifier_logits(out_type, softness=1.0)
    assert (logits - rotated[0]).abs().max() > 1e-3


@pytest.mark.parametrize('scope, cfg', [('mmseg', mit()), ('mmpretrain', pretrain_vit()),
                                        ('mmseg', mmseg_resnet())])
def test_softness_one_is_bit_identical_and_listed_as_identity(scope, cfg):
    torch.manual_seed(0)
    base = build(scope, cfg)
    base.init_weights()
    base.eval()
    model = copy.deepcopy(base)
    report = inject_soft_equivariance(model, dict(group='SO2', softness=1.0), log=False)
    assert report.num_projected == 0 and len(report.projected) > 0
    assert all(entry.identity and entry.softness == 1.0 for entry in report.projected)
    assert not any(is_swapped(m) for m in model.modules() if m is not model)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        for ours, theirs in zip(model(x), base(x)):
            assert torch.equal(ours, theirs)
    assert '- (identity)' in report.format()


def test_per_kind_softness_dict():
    model = build('mmseg', mmseg_vit())
    projected, identity, _ = summary(inject_soft_equivariance(
        model, dict(group='C4', softness=dict(patch_embed=1.0, pos_embed=0.5)), log=False))
    assert projected == {'pos_embed': 'pos_embed'}
    assert identity == {'patch_embed.projection.weight': 'patch_embed'}


def test_per_kind_softness_missing_kind_fails_and_leaves_model_untouched():
    model = build('mmseg', mit())
    with pytest.raises(ValueError, match="no value for kind 'conv'"):
        inject_soft_equivariance(model, dict(group='C4', softness=dict(patch_embed=0.5)),
                                 log=False)
    assert not any(is_swapped(m) for m in model.modules())


def test_dinov2_and_deit_archs():
    dinov2 = build('mmpretrain', dict(type='VisionTransformer', arch='dinov2-small',
                                      img_size=56, patch_size=14, layer_scale_init_value=1e-5))
    report = inject_soft_equivariance(dinov2, dict(group='SO2', softness=dict(
        patch_embed=0.95, pos_embed=0.5)), log=False)
    projected, _, _ = summary(report)
    assert projected == {'patch_embed.projection.weight': 'patch_embed', 'pos_embed': 'pos_embed'}
    kernel = next(e for e in report.projected if e.kind == 'patch_embed')
    assert kernel.grid_size == 14 and kernel.certificate.total == 196
    assert dinov2.__dict__['_softeq_projections']['pos_embed'].prefix_tokens == 1
    # each projection carries where P acts: its grid, the projector's side, its rule target
    projections = {name: module.__dict__['_softeq_projections'][name]
                   for _, module, name in projected_parameters(dinov2)}
    assert [(p.target, p.side, p.grid) for p in projections.values()] == [
        ('pos_grid', 'data', (4, 4)), ('kernel', 'kernel', (14, 14))]
    deit = build('mmpretrain', dict(type='DistilledVisionTransformer', arch='deit-tiny',
                                    img_size=32, patch_size=8))
    inject_soft_equivariance(deit, dict(group='C4', softness=0.0), log=False)
    assert deit.__dict__['_softeq_projections']['pos_embed'].prefix_tokens == 2


def test_non_square_position_grid_is_reported_untouched():
    model = build('mmseg', mmseg_vit(img_size=(32, 16)))
    projected, _, untouched = summary(
        inject_soft_equivariance(model, dict(group='C4', softness=0.5), log=False))
    assert projected == {'patch_embed.projection.weight': 'patch_embed'}
    assert untouched == {'pos_embed': 'non-square position grid 8x4: no rotation projector'}


def test_min_kernel_size_and_exclude():
    model = build('mmseg', mit())
    projected, _, untouched = summary(inject_soft_equivariance(
        model, dict(group='C4', softness=0.5, min_kernel_size=4, exclude=[r'^layers\.0\.0\.']),
        log=False))
    assert set(projected) == {'layers.0.1.0.attn.sr.weight', 'layers.1.1.0.attn.sr.weight'}
    assert untouched['layers.0.0.projection.weight'] == (
        r"excluded by softeq.exclude '^layers\\.0\\.0\\.'")
    assert untouched['layers.1.0.projection.weight'] == 'kernel 3x3 < min_kernel_size=4'
    assert untouched['layers.2.1.0.attn.sr.weight'] == 'kernel 2x2 < min_kernel_size=4'


def test_include_on_a_model_without_rules_and_non_square_kernels():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, (1, 3)), nn.Conv2d(4, 4, 5),
                          nn.Conv2d(4, 2, 1))
    projected, _, untouched = summary(inject_soft_equivariance(
        model, dict(group='C4', softness=0.0, include=[r'^[0-2]\.']), log=False))
    assert projected == {'0.weight': 'conv', '2.weight': 'conv'}
    assert untouched == {
        '1.weight': 'non-square kernel 1x3: no rotation projector',
        '3.weight': 'outside the ruled backbone(s); no softeq.include pattern'}
    x = torch.randn(1, 3, 16, 16)
    assert model(x).shape == (1, 2, 10, 8)


def test_unknown_backbone_error_names_type_and_how_to_add_a_rule():
    cfg = dict(type='ImageClassifier', backbone=dict(type='ShuffleNetV2', widen_factor=0.5),
               neck=dict(type='GlobalAveragePooling'),
               head=dict(type='LinearClsHead', num_classes=3, in_channels=1024))
    model = build('mmpretrain', cfg)
    with pytest.raises(ValueError) as error:
        inject_soft_equivariance(model, dict(group='C4', softness=0.5), log=False)
    message = str(error.value)
    assert "backbone type 'mmpretrain.ShuffleNetV2'" in message
    suggested = ("rules={'mmpretrain.ShuffleNetV2': [dict(kind='patch_embed', "
                 r"pattern=r'^conv1\.conv\.weight$'), dict(kind='conv', pattern=r'\.weight$')]}")
    assert suggested in message  # the stem is the patch embedding, every other conv 'conv'
    assert "rules='auto'" in message
    assert 'mmseg.MixVisionTransformer' in message and 'register_rules' in message
    # ... and following the message works.
    report = inject_soft_equivariance(model, dict(
        group='C4', softness=0.5,
        rules={'mmpretrain.ShuffleNetV2': [dict(kind='patch_embed',
                                                pattern=r'^conv1\.conv\.weight$'),
                                           dict(kind='conv', pattern=r'\.weight$')]}), log=False)
    assert report.backbones == [('backbone', 'mmpretrain.ShuffleNetV2')]
    assert report.num_projected == sum(
        1 for m in model.backbone.modules() if isinstance(m, nn.Conv2d) and m.kernel_size[0] > 1)
    assert [e.name for e in report.projected if e.kind == 'patch_embed'] == [
        'backbone.conv1.conv.weight']


def test_register_rules_for_a_custom_backbone():
    class TinyNet(nn.Module):

        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 4, 5)
            self.grid = nn.Parameter(torch.randn(1, 1 + 9, 4))

    register_rules('TinyNet', [dict(kind='conv', pattern=r'^stem\.weight$'),
                               dict(kind='pos_embed', pattern='^grid$', target='pos_grid',
                                    grid=(3, 3))])
    try:
        model = TinyNet()
        projected, _, _ = summary(inject_soft_equivariance(
            model, dict(group='C4', softness=0.0), log=False))
        assert projected == {'stem.weight': 'conv', 'grid': 'pos_embed'}
        grid = model.grid[0, 1:].reshape(3, 3, 4)
        assert torch.allclose(grid, torch.rot90(grid, 1, (0, 1)), atol=1e-6)
        assert torch.equal(model.grid[:, 0], model._parameters['grid'][:, 0])
    finally:
        rules_module._REGISTERED_RULES.pop('TinyNet')


@pytest.mark.parametrize('softeq, message', [
    (dict(include=['decode_head']), "include pattern 'decode_head' matches no Conv2d weight"),
    (dict(exclude=['nothing_here']), "exclude pattern 'nothing_here' matches no tensor"),
    (dict(rules={'MixVisionTransformer': [dict(kind='conv', pattern='^nope$')]}),
     r"rule .*'\^nope\$'.* of MixVisionTransformer .* matches no Conv2d weight"),
    (dict(rules={'MixVisionTransformer': [dict(kind='pos_embed', pattern='pos_embed',
                                               target='pos_grid', grid=(2, 2))]}),
     'matches no parameter'),
])
def test_patterns_that_match_nothing_are_errors(softeq, message):
    model = build('mmseg', mit())
    with pytest.raises(ValueError, match=message):
        inject_soft_equivariance(model, dict(group='C4', softness=0.5, **softeq), log=False)


def test_injection_is_idempotent_and_refuses_a_second_config():
    model = build('mmseg', mit())
    report = inject_soft_equivariance(model, dict(group='C4', softness=0.5), log=False)
    assert inject_soft_equivariance(model, dict(group='c4', softness=0.5), log=False) is report
    assert softeq_report(model) is report
    with pytest.raises(ValueError, match='already carries soft equivariance'):
        inject_soft_equivariance(model, dict(group='C8', softness=0.5), log=False)


def test_report_goes_to_the_mmengine_logger(tmp_path):
    from mmengine.logging import MMLogger
    log_file = tmp_path / 'report.log'
    logger = MMLogger.get_instance('softeq_report_test', log_file=str(log_file),
                                   log_level='INFO')
    model = build('mmseg', mit())
    inject_soft_equivariance(model, dict(group='D4', softness=0.5))
    for handler in logger.handlers:
        handler.flush()
    text = log_file.read_text()
    header = ('name', 'kind', 'shape', 'group', 'softness', 'kept/total', 'null', 'tau', 'bound',
              'method')
    assert all(column in text for column in header)
    assert 'layers.0.0.projection.weight' in text and '8x3x7x7' in text and 'D4' in text
    assert 'projected: 11 tensor(s); identity (softness 1, not projected): 0; left untouched: 8' \
        in text
    logging.getLogger('softeq_report_test').handlers.clear()


def test_generator_rounding_and_mask_reach_every_projector_and_the_report():
    """The paper's settings from the config: bilinear C720 on the position grid (data side),
    the index rule, its smooth mask; the report names them per tensor."""
    from mmsofteq.projection import invariant_projector
    model = build('mmpretrain', pretrain_vit())
    softeq = dict(group='C720', softness=dict(patch_embed=1.0, pos_embed=0.9),
                  generator='bilinear', rounding='index', cutoff='smooth_paper')
    report = inject_soft_equivariance(model, softeq, log=False)
    (grid, ) = [entry for entry in report.projected if not entry.identity]
    assert grid.name == 'pos_embed' and grid.certificate.generator == 'bilinear'
    assert grid.certificate.cutoff.rounding == 'index'
    expected = invariant_projector('C720', 8, softness=0.9, generator='bilinear',
                                   rounding='index', cutoff='smooth_paper', side='data')
    assert grid.certificate == expected.certificate
    text = report.format()
    assert 'generator' in text and 'bilinear' in text and 'smooth_paper(s=0.9,index)' in text
    default = inject_soft_equivariance(build('mmseg', mit()), dict(group='C4', softness=0.5),
                                       log=False).format()
    assert 'resampled' in default and 'hard(s=0.5,frequency)' in default


# ------------------------------------------------------------------ no silent no-ops

@pytest.mark.parametrize('softeq, reason', [
    (dict(group='C4', softness=0.5, exclude=['.*']), r"excluded by softeq.exclude '\.\*' \(x19\)"),
    (dict(group='C4', softness=0.5, min_kernel_size=99), r'kernel 7x7 < min_kernel_size=99'),
])
def test_a_softeq_that_projects_nothing_is_an_error_naming_why(softeq, reason):
    model = build('mmseg', mit())
    with pytest.raises(ValueError, match=r'softeq projects nothing in .*MixVisionTransformer.*'
                                         + reason):
        inject_soft_equivariance(model, softeq, log=False)
    assert not any(name.startswith('_softeq') for name, _ in model.named_buffers())


def test_softness_one_everywhere_warns_that_the_model_is_unchanged():
    from mmengine.logging import MMLogger
    logger = MMLogger.get_instance('softeq_noop_test')
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    handler = Keep(level=logging.WARNING)
    logger.addHandler(handler)
    try:
        report = inject_soft_equivariance(build('mmseg', mit()), dict(group='C4', softness=1.0),
                                          log=False)
    finally:
        logger.removeHandler(handler)
    assert report.projected and all(entry.identity for entry in report.projected)
    assert any('unchanged: softness 1 for every selected tensor' in message
               for message in records)


def test_smooth_cutoff_with_infinite_decay_is_rejected():
    with pytest.raises(ValueError, match=r"softeq.decay must be a finite number > 0 with "
                                         r"cutoff='smooth', got inf"):
        SoftEqConfig.from_dict(dict(group='C4', softness=0.5, cutoff='smooth',
                                    decay=float('inf')))


def test_the_report_gives_each_tensors_asymmetry_before_and_after_and_what_the_bound_means():
    """The asymmetry column against an independent computation with rotate_field (the
    evaluation's rotation) on the stem's slices: 60 midpoint angles in U(-30°, 30°), compared
    where the rotated ones field is 1."""
    import math

    import numpy as np

    from mmsofteq.utils import rotate_field
    torch.manual_seed(0)
    model = build('mmseg', mit())
    model.init_weights()
    report = inject_soft_equivariance(model, dict(group='SO2', softness=0.6), log=False)
    stem = next(e for e in report.projected if e.name == 'layers.0.0.projection.weight')
    module = dict(model.named_modules())['layers.0.0.projection']

    def independent(weight):
        fields = weight.detach().double().flatten(0, 1)
        total = 0.0
        for degrees in np.linspace(-30, 30, 121)[:-1] + 0.25:
            inside = (rotate_field(torch.ones(1, 7, 7, dtype=torch.float64),
                                   degrees)[0] - 1).abs() < 1e-9
            total += (((rotate_field(fields, degrees) - fields) * inside) ** 2).sum() / 120
        return math.sqrt(total / (fields ** 2).sum())

    before, after = stem.asymmetry
    assert before == pytest.approx(independent(module._parameters['weight']), rel=1e-6)
    assert after == pytest.approx(independent(module.weight), rel=1e-6)
    assert after < 0.9 * before
    assert all(e.asymmetry[1] <= e.asymmetry[0] + 1e-9 for e in report.projected
               if not e.identity)
    text = report.format()
    assert 'T ∼ U(-30°,30°)' in text and 'bound: β bounds the root-mean-square asymmetry' in text
