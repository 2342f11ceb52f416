"""``mmsofteq.GCNN`` and its layers: equivariant to float precision under rot90 and flips."""
import pytest
import torch
from fixtures.tiny_models import build, cls_samples
from mmengine.registry import MODELS

from mmsofteq.models import GCNN, finite_group
from mmsofteq.models.backbones import (GroupBatchNorm, GroupConv2d, GroupPool, LiftingConv2d,
                                       act_on_group_features, spatial_pool)

TOLERANCE = 1e-5
GROUPS = ['C4', 'D4']


def relative_error(actual, expected):
    actual, expected = actual.detach(), expected.detach()
    return float((actual - expected).abs().max() / expected.abs().max().clamp_min(1e-12))


def group_features(group, channels=3, size=8, seed=0):
    return torch.randn(2, channels, len(group), size, size,
                       generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize('name', GROUPS)
def test_lifting_conv_maps_image_rotations_to_the_regular_action(name):
    torch.manual_seed(0)
    group = finite_group(name)
    layer = LiftingConv2d(group, 3, 4, kernel_size=5)
    images = torch.randn(2, 3, 9, 9)
    out = layer(images)
    assert out.shape == (2, 4, len(group), 9, 9)
    for index in range(1, len(group)):
        assert relative_error(layer(group.act(images, index)),
                              act_on_group_features(out, group, index)) < TOLERANCE


@pytest.mark.parametrize('name', GROUPS)
def test_group_conv_commutes_with_the_regular_action(name):
    torch.manual_seed(0)
    group = finite_group(name)
    layer = GroupConv2d(group, 3, 5, kernel_size=3)
    features = group_features(group)
    out = layer(features)
    assert out.shape == (2, 5, len(group), 8, 8)
    for index in range(1, len(group)):
        assert relative_error(layer(act_on_group_features(features, group, index)),
                              act_on_group_features(out, group, index)) < TOLERANCE


def test_group_conv_filters_are_rotated_and_cyclically_shifted_for_c4():
    group = finite_group('C4')
    layer = GroupConv2d(group, 1, 1, kernel_size=3, bias=False)
    weight = layer.weight.detach()[0, 0]                                   # (4, 3, 3)
    expanded = layer.expanded_weight().detach().reshape(4, 4, 3, 3)       # (g, g', k, k)
    for g in range(4):
        for g_in in range(4):
            assert torch.equal(expanded[g, g_in],
                               torch.rot90(weight[(g_in - g) % 4], g, dims=(-2, -1)))


@pytest.mark.parametrize('name', GROUPS)
@pytest.mark.parametrize('training', [True, False])
def test_batch_norm_shares_statistics_over_the_group_axis(name, training):
    group = finite_group(name)
    norm = GroupBatchNorm(3)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 2.0)
        norm.bias.uniform_(-1.0, 1.0)
        norm.running_mean.uniform_(-1.0, 1.0)
    norm.train(training)
    features = group_features(group)
    out = norm(features)
    norm.train(training)
    for index in range(1, len(group)):
        assert relative_error(norm(act_on_group_features(features, group, index)),
                              act_on_group_features(out, group, index)) < TOLERANCE
    assert norm.weight.shape == (3, )  # one affine pair per channel, shared over |G|


@pytest.mark.parametrize('name', GROUPS)
@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_spatial_pooling_is_equivariant_on_even_sizes(name, mode):
    group = finite_group(name)
    features = group_features(group)
    out = spatial_pool(features, mode)
    assert out.shape[-2:] == (4, 4)
    for index in range(1, len(group)):
        assert torch.allclose(spatial_pool(act_on_group_features(features, group, index), mode),
                              act_on_group_features(out, group, index), atol=1e-6)
    with pytest.raises(ValueError, match='even spatial sizes.*7x7'):
        spatial_pool(group_features(group, size=7), mode)


@pytest.mark.parametrize('name', GROUPS)
@pytest.mark.parametrize('mode', ['max', 'mean'])
def test_group_pooling_gives_a_rotating_scalar_field(name, mode):
    group = finite_group(name)
    features = group_features(group)
    pooled = GroupPool(mode)(features)
    assert pooled.shape == (2, 3, 8, 8)
    for index in range(1, len(group)):
        assert torch.allclose(GroupPool(mode)(act_on_group_features(features, group, index)),
                              group.act(pooled, index), atol=1e-6)


@pytest.mark.parametrize('name', GROUPS)
@pytest.mark.parametrize('training', [False, True])
def test_gcnn_features_are_equivariant_and_pooled_output_invariant(name, training):
    torch.manual_seed(0)
    net = GCNN(group=name, stem_channels=4, stage_channels=(4, 8), convs_per_stage=1,
               out_indices=(0, 1)).train(training)
    group = net.group
    images = torch.randn(2, 3, 16, 16)
    regular = net.forward_features(images)
    invariant = net(images)
    assert [f.shape for f in invariant] == [(2, 4, 16, 16), (2, 8, 8, 8)]
    for index in range(1, len(group)):
        moved = group.act(images, index)
        for ours, theirs in zip(net.forward_features(moved), regular):
            assert relative_error(ours, act_on_group_features(theirs, group, index)) < TOLERANCE
        pooled = net(moved)[-1].mean(dim=(-2, -1))
        assert relative_error(pooled, invariant[-1].mean(dim=(-2, -1))) < TOLERANCE
    assert net.out_channels == 8


def test_gcnn_rejects_groups_without_an_exact_action_and_bad_settings():
    with pytest.raises(ValueError, match=r"GCNN.*one of 'C1', 'C2', 'C4', 'D1', 'D2', 'D4'"):
        GCNN(group='C8')
    with pytest.raises(ValueError, match='kernel_size must be an odd'):
        GCNN(kernel_size=4)
    with pytest.raises(ValueError, match='out_type must be one of'):
        GCNN(out_type='pooled')


@pytest.mark.parametrize('name', GROUPS)
def test_mmpretrain_classifier_with_a_gcnn_backbone_is_invariant(name):
    torch.manual_seed(0)
    model = build('mmpretrain', dict(
        type='ImageClassifier',
        backbone=dict(type='mmsofteq.GCNN', group=name, in_channels=1, stem_channels=4,
                      stage_channels=(4, 8), convs_per_stage=1),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=5, in_channels=8,
                  loss=dict(type='CrossEntropyLoss'))))
    assert isinstance(model.backbone, GCNN)
    images = torch.randn(3, 1, 24, 24)
    samples = cls_samples(3)
    losses = model.loss(images, samples)
    losses['loss'].backward()
    assert model.backbone.stem.conv.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        clean = torch.stack([s.pred_score for s in model.predict(images)])
        for index in range(1, len(model.backbone.group)):
            moved = model.backbone.group.act(images, index)
            scores = torch.stack([s.pred_score for s in model.predict(moved)])
            assert torch.allclose(scores, clean, atol=1e-6), index


def test_gcnn_is_registered_in_the_mmsofteq_scope():
    assert MODELS.get('mmsofteq.GCNN') is GCNN
