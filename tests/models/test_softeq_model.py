"""``mmsofteq.SoftEqModel``: the built model is the base model (same class, same keys)."""
import math
import textwrap

import pytest
import torch
from fixtures import tiny_segformer_cfg
from fixtures.tiny_models import build, classifier, mmseg_vit, pretrain_resnet, pretrain_vit
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import load_checkpoint, save_checkpoint

from mmsofteq.nn import softeq_report
from mmsofteq.projection import invariant_projector

SOFTEQ = dict(group='C4', softness=0.5)


def segformer_model_cfg(tmp_path):
    return tiny_segformer_cfg(tmp_path / 'voc', tmp_path / 'work', num_classes=4,
                              norm_type='BN').model


def test_segmentor_keeps_class_and_state_dict_keys(tmp_path):
    init_default_scope('mmseg')
    base_cfg = segformer_model_cfg(tmp_path)
    base = MODELS.build(base_cfg)
    model = MODELS.build(dict(type='mmsofteq.SoftEqModel', model=base_cfg, softeq=SOFTEQ))
    assert type(model).__name__ == 'EncoderDecoder'
    assert isinstance(model, type(base))
    assert list(model.state_dict()) == list(base.state_dict())
    assert [(n, p.shape) for n, p in model.named_parameters()] == [
        (n, p.shape) for n, p in base.named_parameters()]
    assert softeq_report(model).num_projected == 11
    # Round trip: a base checkpoint loads strictly into the soft-equivariant model and back.
    path = str(tmp_path / 'base.pth')
    save_checkpoint(dict(state_dict=base.state_dict(), meta={}), path)
    load_checkpoint(model, path, strict=True)
    load_checkpoint(base, path, strict=True)


def test_classifier_keeps_keys_and_gets_the_top_level_data_preprocessor():
    init_default_scope('mmpretrain')
    base_cfg = classifier(pretrain_vit(), channels=16)
    preprocessor = dict(type='ClsDataPreprocessor', mean=[1., 2., 3.], std=[4., 5., 6.])
    model = MODELS.build(dict(type='mmsofteq.SoftEqModel', model=base_cfg, softeq=SOFTEQ,
                              data_preprocessor=preprocessor))
    base = MODELS.build(dict(base_cfg, data_preprocessor=preprocessor))
    assert type(model).__name__ == 'ImageClassifier' and isinstance(model, type(base))
    assert list(model.state_dict()) == list(base.state_dict())
    assert model.data_preprocessor.mean.flatten().tolist() == [1., 2., 3.]


def test_config_snippet_inheriting_model_from_base(tmp_path):
    base = tiny_segformer_cfg(tmp_path / 'voc', tmp_path / 'work', num_classes=4,
                              norm_type='BN')
    base.dump(str(tmp_path / 'base.py'))
    (tmp_path / 'softeq.py').write_text(textwrap.dedent("""
        _base_ = ['./base.py']
        custom_imports = dict(imports=['mmsofteq'], allow_failed_imports=False)
        softeq = dict(group='SO2', softness=0.95, cutoff='hard', method='auto')
        model = dict(type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
    """))
    cfg = Config.fromfile(str(tmp_path / 'softeq.py'))
    assert 'backbone' in cfg.model  # mmengine merged the base model's keys into ours
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'EncoderDecoder'
    assert softeq_report(model).group == 'SO2'

    (tmp_path / 'conflict.py').write_text(textwrap.dedent("""
        _base_ = ['./base.py']
        model = dict(type='mmsofteq.SoftEqModel', model=_base_.model,
                     softeq=dict(group='C4', softness=0.5), backbone=dict(embed_dims=32))
    """))
    cfg = Config.fromfile(str(tmp_path / 'conflict.py'))
    with pytest.raises(TypeError, match=r"unexpected arguments \['backbone'\].*_delete_=True"):
        MODELS.build(cfg.model)


@pytest.mark.parametrize('model_cfg, message', [
    (mmseg_vit(), "wraps segmentors and classifiers.*got mmseg.models.backbones.vit"),
    (dict(type='SegDataPreProcessor'), 'wraps segmentors and classifiers'),
    ('EncoderDecoder', r'needs model=dict\(type=...'),
])
def test_rejects_models_that_are_not_segmentors_or_classifiers(model_cfg, message):
    init_default_scope('mmseg')
    with pytest.raises(TypeError, match=message):
        MODELS.build(dict(type='mmsofteq.SoftEqModel', model=model_cfg, softeq=SOFTEQ))


@pytest.mark.parametrize('softeq, message', [
    (dict(group='C4', softness=1.2), r'softeq\.softness.*\[0, 1\]'),
    (dict(group='C4', softness=-0.5), r'softeq\.softness.*\[0, 1\]'),
    (dict(group='Q8', softness=0.5), 'unknown group'),
    (dict(group='C4', softness=dict(patch=0.5)), r"unknown kind\(s\) \['patch'\]"),
])
def test_bad_softeq_fails_at_build_time(tmp_path, softeq, message):
    init_default_scope('mmseg')
    with pytest.raises(ValueError, match=message):
        MODELS.build(dict(type='mmsofteq.SoftEqModel', model=segformer_model_cfg(tmp_path),
                          softeq=softeq))


@pytest.mark.parametrize('scope, backbone', [('mmseg', mmseg_vit()),
                                             ('mmpretrain', pretrain_vit())])
def test_pretrained_init_cfg_fills_theta(tmp_path, scope, backbone):
    """init_cfg=dict(type='Pretrained') writes θ; the effective weights are P·checkpoint."""
    torch.manual_seed(0)
    source = build(scope, backbone)
    source.init_weights()
    path = str(tmp_path / 'pretrained.pth')
    save_checkpoint(dict(state_dict=source.state_dict(), meta={}), path)
    init_default_scope(scope)
    if scope == 'mmseg':
        model_cfg = dict(type='EncoderDecoder',
                         backbone=dict(backbone, init_cfg=dict(type='Pretrained',
                                                               checkpoint=path)),
                         decode_head=dict(type='FCNHead', in_channels=16, channels=8,
                                          num_convs=1, num_classes=3,
                                          norm_cfg=dict(type='BN')))
    else:
        model_cfg = classifier(dict(backbone, init_cfg=dict(type='Pretrained', checkpoint=path)),
                               channels=16)
    model = MODELS.build(dict(type='mmsofteq.SoftEqModel', model=model_cfg, softeq=dict(
        group='C4', softness=0.0)))
    model.init_weights()
    loaded = model.backbone
    for key, value in source.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    grid = torch.from_numpy(invariant_projector('C4', 8, softness=0.0).matrix)
    expected = source.pos_embed[0, 1:].double()
    assert torch.allclose(loaded.pos_embed[0, 1:].double(), grid @ expected, atol=1e-6)
    assert torch.equal(loaded.pos_embed[0, 0], source.pos_embed[0, 0])
    kernel = torch.from_numpy(invariant_projector('C4', 4, softness=0.0).matrix)
    weight = source.patch_embed.projection.weight.double()
    assert torch.allclose(loaded.patch_embed.projection.weight.double(),
                          (weight.reshape(16, 3, 16) @ kernel).reshape(weight.shape), atol=1e-6)


# ------------------------------------------- every softeq key reaches the model (registry build)
# Expected sets come from the model's own modules; kept counts at softness 0 are the C4 orbit
# counts of the k x k grid, (k² + 3·(k mod 2)) / 4 (13 for the 7x7 stem, 3 for 3x3, 16 for the
# 8x8 position grid), the dimension of the rot90-fixed space.


def c4_orbits(k):
    return (k * k + 3 * (k % 2)) // 4


def build_softeq(scope, model_cfg, **softeq):
    init_default_scope(scope)
    return MODELS.build(dict(type='mmsofteq.SoftEqModel', model=model_cfg,
                             softeq=dict(dict(group='C4'), **softeq)))


def spatial_convs(model):
    """{state-dict key: k} of the backbone's Conv2d weights."""
    return {f'{name}.weight': module.kernel_size[0]
            for name, module in model.named_modules()
            if isinstance(module, torch.nn.Conv2d) and name.startswith('backbone.')}


def report_rows(model):
    report = softeq_report(model)
    projected = {e.name: e for e in report.projected if not e.identity}
    identity = {e.name for e in report.projected if e.identity}
    untouched = {e.name: e.reason for e in report.untouched}
    return projected, identity, untouched


RESNET = classifier(pretrain_resnet(), channels=64)


@pytest.mark.parametrize('softeq, projected_if, reason_if', [
    (dict(), lambda name, k: k >= 2, lambda name, k: 'kernel 1x1 < min_kernel_size=2'),
    (dict(min_kernel_size=4), lambda name, k: k >= 4,
     lambda name, k: f'kernel {k}x{k} < min_kernel_size=4'),
    (dict(exclude=[r'^backbone\.layer4\.']),
     lambda name, k: k >= 2 and not name.startswith('backbone.layer4.'),
     lambda name, k: ("excluded by softeq.exclude '^backbone\\\\.layer4\\\\.'"
                      if name.startswith('backbone.layer4.') else
                      'kernel 1x1 < min_kernel_size=2')),
])
def test_softeq_model_honours_min_kernel_size_and_exclude(softeq, projected_if, reason_if):
    model = build_softeq('mmpretrain', RESNET, softness=0.0, **softeq)
    convs = spatial_convs(model)
    projected, identity, untouched = report_rows(model)
    assert set(projected) == {name for name, k in convs.items() if projected_if(name, k)}
    assert untouched == {name: reason_if(name, k) for name, k in convs.items()
                         if not projected_if(name, k)}
    assert identity == set()
    for name, entry in projected.items():
        k = convs[name]
        assert entry.certificate.kept == c4_orbits(k) and entry.certificate.total == k * k
    modules = dict(model.named_modules())
    for name, k in convs.items():  # projected: exactly rot90-invariant; the others: θ itself
        module = modules[name[:-len('.weight')]]
        if name in projected:
            assert torch.allclose(module.weight, torch.rot90(module.weight, 1, (2, 3)),
                                  atol=1e-6)
        else:
            assert module.weight is module._parameters['weight']


def test_softeq_model_honours_include():
    head = dict(type='FCNHead', in_channels=16, channels=8, num_convs=1, num_classes=3,
                norm_cfg=dict(type='BN'))
    segmentor = dict(type='EncoderDecoder', backbone=mmseg_vit(), decode_head=head)
    plain = build_softeq('mmseg', segmentor, softness=0.0)
    included = build_softeq('mmseg', segmentor, softness=0.0, include=[r'^decode_head\.convs'])
    assert 'decode_head.convs.0.conv.weight' not in report_rows(plain)[0]
    projected, _, _ = report_rows(included)
    assert set(projected) == set(report_rows(plain)[0]) | {'decode_head.convs.0.conv.weight'}
    entry = projected['decode_head.convs.0.conv.weight']
    assert entry.kind == 'conv' and entry.certificate.kept == c4_orbits(3)
    weight = included.decode_head.convs[0].conv.weight
    assert torch.allclose(weight, torch.rot90(weight, 1, (2, 3)), atol=1e-6)
    assert not torch.allclose(plain.decode_head.convs[0].conv.weight,
                              torch.rot90(plain.decode_head.convs[0].conv.weight, 1, (2, 3)),
                              atol=1e-3)


def fourier_projector(k, weights):
    """Σ_λ weights[λ] Π_λ on vec of k x k kernels, Π_λ = ¼ Σ_j λ^(−j) R^j the projector onto
    the λ-eigenspace (λ ∈ {1, i, −1, −i}) of the quarter turn R = torch.rot90."""
    basis = torch.eye(k * k, dtype=torch.complex128).reshape(k * k, k, k)
    powers = [torch.rot90(basis, j, (1, 2)).reshape(k * k, k * k).T for j in range(4)]
    total = torch.zeros(k * k, k * k, dtype=torch.complex128)
    for eigenvalue, weight in weights.items():
        total += weight * sum(eigenvalue ** (-j) * powers[j] for j in range(4)) / 4
    assert total.imag.abs().max() < 1e-12
    return total.real


def test_softeq_model_honours_the_smooth_cutoff_and_its_decay():
    """C4's asymmetry form (the mean over the four quarter turns R^j of (R^j − I)ᵀ(R^j − I))
    is 0 on λ = 1 and (0 + |λ−1|² + |λ²−1|² + |λ³−1|²)/4 = 2 on λ = ±i, −1: σ = 0 or √2.
    Softness 0 keeps σ = 0 (τ = 0), the others weigh exp(−√2/decay):
    P = Π_1 + e^(−√2/d) (Π_i + Π_−i + Π_−1), built here from torch.rot90 alone."""
    decay = 0.9
    model = build_softeq('mmpretrain', RESNET, softness=0.0, cutoff='smooth', decay=decay)
    projected, _, _ = report_rows(model)
    assert all(e.certificate.cutoff.kind == 'smooth' and e.certificate.cutoff.decay == decay
               for e in projected.values())
    modules = dict(model.named_modules())
    for name, k in (('backbone.conv1', 7), ('backbone.layer1.0.conv1', 3)):
        theta = modules[name]._parameters['weight'].detach().double()
        damped = math.exp(-math.sqrt(2) / decay)
        expected = fourier_projector(k, {1: 1.0, 1j: damped, -1j: damped, -1: damped})
        effective = theta.flatten(2) @ expected
        assert torch.allclose(modules[name].weight.double().flatten(2), effective, atol=1e-6)
        hard = theta.flatten(2) @ fourier_projector(k, {1: 1.0})
        assert (effective - hard).abs().max() > 1e-2  # really smooth, not the hard cutoff


@pytest.mark.parametrize('scope, model_cfg, softness, projected, identity, kept', [
    # the explicitly named kind wins over `default`, whichever way round
    ('mmpretrain', RESNET, dict(patch_embed=0.0, default=1.0), {'backbone.conv1.weight'},
     'rest', {'backbone.conv1.weight': c4_orbits(7)}),
    ('mmpretrain', RESNET, dict(conv=1.0, default=0.0), {'backbone.conv1.weight'}, 'rest',
     {'backbone.conv1.weight': c4_orbits(7)}),
    ('mmpretrain', RESNET, dict(patch_embed=1.0, default=0.0), 'rest',
     {'backbone.conv1.weight'}, {'backbone.layer1.0.conv1.weight': c4_orbits(3)}),
    ('mmpretrain', classifier(pretrain_vit(), channels=16), dict(pos_embed=0.0, default=1.0),
     {'backbone.pos_embed'}, {'backbone.patch_embed.projection.weight'},
     {'backbone.pos_embed': c4_orbits(8)}),
])
def test_softeq_model_per_kind_softness_with_default(scope, model_cfg, softness, projected,
                                                     identity, kept):
    model = build_softeq(scope, model_cfg, softness=softness)
    rows, identities, _ = report_rows(model)
    everything = set(rows) | identities
    projected = everything - identity if projected == 'rest' else projected
    identity = everything - projected if identity == 'rest' else identity
    assert set(rows) == projected and identities == identity
    for name, count in kept.items():
        assert rows[name].certificate.kept == count
    for name in identities:
        assert next(e for e in softeq_report(model).projected if e.name == name).softness == 1.0
