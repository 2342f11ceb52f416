"""``mmsofteq.OrbitAveragedModel``: exact C4/D4 invariance / equivariance, same keys."""
import copy
import pickle

import pytest
import torch
import torch.nn.functional as F
from fixtures.tiny_models import build, mmseg_vit, seg_samples, tiny_segmentor
from fixtures.tiny_models import predicted_scores as scores
from fixtures.tiny_models import predicted_seg_logits as seg_logits
from fixtures.tiny_models import resnet_classifier
from mmengine.config import ConfigDict
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import load_checkpoint, save_checkpoint

from mmsofteq.models import finite_group

TOLERANCE = 1e-5


def orbit(scope, model_cfg, **keys):
    torch.manual_seed(0)
    init_default_scope(scope)
    return MODELS.build(dict(type='mmsofteq.OrbitAveragedModel', model=model_cfg, **keys))


@pytest.mark.parametrize('scope, model_cfg', [('mmseg', tiny_segmentor()),
                                             ('mmpretrain', resnet_classifier())])
def test_keeps_class_keys_and_loads_a_base_checkpoint_strictly(scope, model_cfg, tmp_path):
    torch.manual_seed(0)
    base = build(scope, model_cfg)
    model = orbit(scope, model_cfg, group='D4')
    assert type(model).__name__ == type(base).__name__ and isinstance(model, type(base))
    assert list(model.state_dict()) == list(base.state_dict())
    path = str(tmp_path / 'base.pth')
    save_checkpoint(dict(state_dict=base.state_dict(), meta={}), path)
    load_checkpoint(model, path, strict=True)
    assert 'orbit averaging: group=D4' in repr(model)


def test_uses_the_top_level_data_preprocessor():
    preprocessor = dict(type='ClsDataPreprocessor', mean=[1., 2., 3.], std=[4., 5., 6.])
    model = orbit('mmpretrain', resnet_classifier(), data_preprocessor=preprocessor)
    assert model.data_preprocessor.mean.flatten().tolist() == [1., 2., 3.]


@pytest.mark.parametrize('group', ['C4', 'D4'])
@pytest.mark.parametrize('combine', ['mean_logits', 'mean_probs'])
def test_classifier_is_invariant_to_its_group(group, combine):
    model = orbit('mmpretrain', resnet_classifier(), group=group, combine=combine).eval()
    base = build('mmpretrain', resnet_classifier()).eval()
    base.load_state_dict(model.state_dict())
    images = torch.randn(3, 3, 32, 32)
    clean = scores(model, images)
    elements = finite_group(group)
    for index in range(1, len(elements)):
        assert (scores(model, elements.act(images, index)) - clean).abs().max() < TOLERANCE
    # the base model is not invariant (the test could fail)
    assert (scores(base, elements.act(images, 1)) - scores(base, images)).abs().max() > 1e-4
    # the formula: softmax of the mean logits / the mean probabilities
    with torch.no_grad():
        logits = torch.stack([base(elements.act(images, i), mode='tensor')
                              for i in range(len(elements))])
    expected = (F.softmax(logits.mean(0), dim=1) if combine == 'mean_logits' else
                F.softmax(logits, dim=2).mean(0))
    assert torch.allclose(clean, expected, atol=1e-6)


@pytest.mark.parametrize('group', ['C4', 'D4'])
def test_segmentor_is_equivariant_to_its_group(group):
    model = orbit('mmseg', tiny_segmentor(), group=group).eval()
    images = torch.randn(2, 3, 32, 32)
    clean = seg_logits(model, images)
    elements = finite_group(group)
    for index in range(1, len(elements)):
        moved = seg_logits(model, elements.act(images, index))
        assert (moved - elements.act(clean, index)).abs().max() < TOLERANCE, index
    base = build('mmseg', tiny_segmentor()).eval()
    base.load_state_dict(model.state_dict())
    assert (seg_logits(base, elements.act(images, 1)) -
            elements.act(seg_logits(base, images), 1)).abs().max() > 1e-4


def test_c8_averages_each_pixel_over_the_elements_where_it_is_valid():
    model = orbit('mmseg', tiny_segmentor(), group='C8').eval()
    base = build('mmseg', tiny_segmentor()).eval()
    base.load_state_dict(model.state_dict())
    images = torch.randn(1, 3, 32, 32)
    group = finite_group('C8')
    metas = [dict(img_shape=(32, 32), ori_shape=(32, 32), pad_shape=(32, 32))]
    with torch.no_grad():
        averaged = model.encode_decode(images, metas)
        backs = [group.act_inverse(base.encode_decode(group.act(images, i), metas), i)
                 for i in range(8)]
    masks = [group.inverse_valid_mask((32, 32), i) for i in range(8)]
    assert not masks[1][0, 0] and masks[2][0, 0]          # the corner: only the quarter turns
    corner = torch.stack([backs[i][0, :, 0, 0] for i in range(8) if masks[i][0, 0]]).mean(0)
    centre = torch.stack([back[0, :, 16, 16] for back in backs]).mean(0)
    assert torch.allclose(averaged[0, :, 0, 0], corner, atol=1e-6)
    assert torch.allclose(averaged[0, :, 16, 16], centre, atol=1e-6)


def test_a_single_channel_head_averages_probabilities_and_returns_their_logit():
    """``combine='mean_probs'`` with a 1-channel (sigmoid) head: ``logit(mean_g σ(z_g))``,
    not ``log mean_g σ(z_g)`` (a log-probability thresholded as a logit at 0 would call every
    pixel background)."""
    single = tiny_segmentor(num_classes=2)
    single['decode_head'].update(out_channels=1, threshold=0.5, loss_decode=dict(
        type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0))
    model = orbit('mmseg', single, group='C4', combine='mean_probs').eval()
    base = build('mmseg', single).eval()
    base.load_state_dict(model.state_dict())
    images = torch.randn(1, 3, 32, 32)
    group = finite_group('C4')
    metas = [dict(img_shape=(32, 32), ori_shape=(32, 32), pad_shape=(32, 32))]
    with torch.no_grad():
        averaged = model.encode_decode(images, metas)
        probabilities = torch.stack([torch.sigmoid(group.act_inverse(
            base.encode_decode(group.act(images, i), metas), i)) for i in range(4)]).mean(0)
    assert averaged.shape[1] == 1
    assert torch.allclose(averaged, torch.logit(probabilities.double()).float(), atol=1e-4)


def test_non_square_input_of_a_quarter_turn_group_is_a_value_error():
    model = orbit('mmseg', tiny_segmentor(), group='C4').eval()
    with pytest.raises(ValueError, match=r"quarter turns.*got 32x48.*mode='slide'"):
        seg_logits(model, torch.randn(1, 3, 32, 48))
    half_turns = orbit('mmseg', tiny_segmentor(), group='D2').eval()
    images = torch.randn(1, 3, 32, 48)
    assert (seg_logits(half_turns, torch.rot90(images, 2, (-2, -1))) -
            torch.rot90(seg_logits(half_turns, images), 2, (-2, -1))).abs().max() < TOLERANCE


def test_slide_inference_averages_each_square_crop():
    model_cfg = dict(tiny_segmentor(), test_cfg=ConfigDict(mode='slide', crop_size=(32, 32),
                                                           stride=(16, 16)))
    model = orbit('mmseg', model_cfg, group='C4').eval()
    assert seg_logits(model, torch.randn(1, 3, 32, 64)).shape == (1, 4, 32, 64)


@pytest.mark.parametrize('keys, error, message', [
    (dict(group='SO2'), ValueError, r"finite planar group, one of 'C<n>' or 'D<n>'"),
    (dict(group='X3'), ValueError, r"unknown group 'X3'"),
    (dict(combine='vote'), ValueError, r"combine must be one of \('mean_logits', 'mean_probs'"),
    (dict(train_augment='yes'), ValueError, 'train_augment must be True or False'),
])
def test_bad_keys_fail_before_building(keys, error, message):
    with pytest.raises(error, match=message):
        orbit('mmseg', dict(type='NotEvenARegisteredType'), **keys)


@pytest.mark.parametrize('model_cfg, message', [
    (mmseg_vit(), 'wraps segmentors and classifiers.*got mmseg.models.backbones.vit'),
    ('EncoderDecoder', r'needs model=dict\(type=...'),
])
def test_rejects_models_that_are_not_segmentors_or_classifiers(model_cfg, message):
    with pytest.raises(TypeError, match=message):
        orbit('mmseg', model_cfg)


def test_rejects_merge_leftovers_that_differ():
    with pytest.raises(TypeError, match=r"unexpected arguments \['backbone'\].*_delete_=True"):
        orbit('mmseg', tiny_segmentor(), backbone=dict(embed_dims=32))


def test_takes_the_model_as_module_the_tta_key_and_exactly_one_of_them():
    """``module=`` is what ``tools/test.py --tta`` sets in ``tta_model``: the same model as
    ``model=``; both or neither is refused."""
    init_default_scope('mmseg')
    torch.manual_seed(0)
    by_module = MODELS.build(dict(type='mmsofteq.OrbitAveragedModel', module=tiny_segmentor()))
    torch.manual_seed(0)
    by_model = orbit('mmseg', tiny_segmentor())
    assert by_module.state_dict().keys() == by_model.state_dict().keys()
    for name, value in by_model.state_dict().items():
        assert torch.equal(by_module.state_dict()[name], value), name
    for keys in (dict(model=tiny_segmentor(), module=tiny_segmentor()), dict()):
        with pytest.raises(TypeError, match='exactly one of them'):
            MODELS.build(dict(type='mmsofteq.OrbitAveragedModel', **keys))


def test_train_augment_rotates_inputs_and_labels_together(monkeypatch):
    model = orbit('mmseg', tiny_segmentor(), group='C4', train_augment=True).train()
    base = build('mmseg', tiny_segmentor()).train()
    base.load_state_dict(model.state_dict())
    images = torch.randn(2, 3, 32, 32)
    samples = seg_samples(2, 32, 32, labels=True)
    monkeypatch.setattr(type(model), '_random_element', lambda self: 1)
    ours = model.loss(images, samples)['decode.loss_ce']
    rotated = seg_samples(2, 32, 32, labels=True)
    for sample in rotated:
        sample.gt_sem_seg.data = torch.rot90(sample.gt_sem_seg.data, 1, (-2, -1))
    expected = base.loss(torch.rot90(images, 1, (-2, -1)), rotated)['decode.loss_ce']
    assert torch.allclose(ours, expected)
    assert torch.equal(samples[0].gt_sem_seg.data, seg_samples(2, 32, 32, labels=True)[0]
                       .gt_sem_seg.data)  # the caller's samples are not modified
    plain = orbit('mmseg', tiny_segmentor(), group='C4').train()
    plain.load_state_dict(model.state_dict())
    assert torch.allclose(plain.loss(images, samples)['decode.loss_ce'],
                          base.loss(images, samples)['decode.loss_ce'])


@pytest.mark.parametrize('group', ['C4', 'D4'])
def test_the_training_draw_covers_every_group_element_uniformly(group):
    """``loss`` rotates by ``_random_element()`` (above); 4,000 seeded draws hit each of the
    ``|G|`` elements 4000/|G| ± 5 binomial standard deviations times (the last one too)."""
    model = orbit('mmpretrain', resnet_classifier(), group=group, train_augment=True)
    size = len(model.orbit_averaging.group)
    torch.manual_seed(0)
    counts = torch.bincount(torch.tensor([model._random_element() for _ in range(4000)]),
                            minlength=size)
    assert counts.numel() == size
    mean, spread = 4000 / size, 5 * (4000 * (1 / size) * (1 - 1 / size)) ** 0.5
    assert bool(((counts - mean).abs() <= spread).all()), counts.tolist()


def test_deep_copy_and_pickle_keep_the_averaging():
    model = orbit('mmpretrain', resnet_classifier(), group='C4').eval()
    images = torch.randn(2, 3, 32, 32)
    expected = scores(model, images)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert type(clone) is type(model)
        assert torch.allclose(scores(clone, images), expected)


@pytest.mark.parametrize('injected_inside', [True, False])
def test_wrapped_and_injected_model_pickles_and_exports_in_either_order(injected_inside):
    """The wrapper's class swap and the injection's stack: both orders pickle, and export
    removes only the injection's."""
    from mmsofteq.nn import export_model, is_swapped
    from mmsofteq.models.wrapping import is_wrapped
    softeq = dict(group='C4', softness=0.9)
    torch.manual_seed(0)
    init_default_scope('mmpretrain')
    if injected_inside:
        inner = MODELS.build(dict(type='mmsofteq.SoftEqModel', model=resnet_classifier(),
                                  softeq=softeq))
        model = MODELS.build(dict(type='mmsofteq.OrbitAveragedModel', model=inner, group='C4'))
    else:
        model = MODELS.build(dict(type='mmsofteq.SoftEqModel', softeq=softeq, model=dict(
            type='mmsofteq.OrbitAveragedModel', model=resnet_classifier(), group='C4')))
    model.eval()
    images = torch.randn(2, 3, 32, 32)
    expected = scores(model, images)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert type(clone) is type(model)
        assert torch.allclose(scores(clone, images), expected)
    export_model(model)
    assert not is_swapped(model) and is_wrapped(model)
    assert torch.allclose(scores(model, images), expected, atol=TOLERANCE)


def test_warns_when_evaluation_angles_leave_the_group():
    model = orbit('mmpretrain', resnet_classifier(), group='C4')
    with pytest.warns(UserWarning, match=r'C4 holds rotations by multiples of 90°.*U\(-30°'):
        assert model.check_evaluation_angles(dict(kind='uniform', low=-30.0, high=30.0))
    assert model.check_evaluation_angles(dict(kind='cyclic', order=4)) is None
