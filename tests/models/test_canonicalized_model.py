"""``mmsofteq.CanonicalizedModel`` (Canon.): exact invariance at eval, straight-through
gradients into the canonicaliser, base checkpoints load."""
import copy
import pickle

import pytest
import torch
import torch.nn.functional as F
from fixtures.tiny_models import build, cls_samples, mmseg_vit, seg_samples, tiny_segmentor
from fixtures.tiny_models import predicted_scores as scores
from fixtures.tiny_models import predicted_seg_logits as seg_logits
from fixtures.tiny_models import resnet_classifier
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import load_checkpoint, save_checkpoint

from mmsofteq.models import GroupCanonicalizer, finite_group

CANONICALIZER = dict(group='C4', input_size=16, stem_channels=4, stage_channels=(4, 8))


def canon(scope, model_cfg, canonicalizer=CANONICALIZER, **keys):
    torch.manual_seed(0)
    init_default_scope(scope)
    return MODELS.build(dict(type='mmsofteq.CanonicalizedModel', model=model_cfg,
                             canonicalizer=canonicalizer, **keys))


def assert_no_ties(model, images, margin=1e-4):
    with torch.no_grad():
        top2 = model.canonicalizer(images).topk(2, dim=1).values
    assert bool(((top2[:, 0] - top2[:, 1]) > margin).all()), top2


@pytest.mark.parametrize('scope, model_cfg', [('mmseg', tiny_segmentor()),
                                             ('mmpretrain', resnet_classifier())])
def test_state_dict_is_canonicalizer_plus_the_base_keys_and_a_base_checkpoint_loads(
        scope, model_cfg, tmp_path):
    torch.manual_seed(1)
    base = build(scope, model_cfg)
    model = canon(scope, model_cfg)
    assert type(model).__name__ == type(base).__name__ and isinstance(model, type(base))
    keys = list(model.state_dict())
    ours = [key for key in keys if key.startswith('canonicalizer.')]
    assert ours and [key for key in keys if key not in ours] == list(base.state_dict())
    assert ours == ['canonicalizer.' + key for key in model.canonicalizer.state_dict()]
    path = str(tmp_path / 'base.pth')
    save_checkpoint(dict(state_dict=base.state_dict(), meta={}), path)
    before = {k: v.clone() for k, v in model.canonicalizer.state_dict().items()}
    load_checkpoint(model, path, strict=False)
    for key, value in base.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    for key, value in before.items():  # the canonicaliser keeps its random init
        assert torch.equal(model.canonicalizer.state_dict()[key], value), key
    missing, unexpected = model.load_state_dict(base.state_dict(), strict=False)
    # (BatchNorm fills a missing num_batches_tracked itself and does not report it)
    assert sorted(missing) == sorted(k for k in ours if not k.endswith('num_batches_tracked'))
    assert unexpected == []


@pytest.mark.parametrize('group', ['C4', 'D4'])
def test_classifier_is_exactly_invariant_at_eval(group):
    model = canon('mmpretrain', resnet_classifier(), dict(CANONICALIZER, group=group)).eval()
    images = torch.randn(4, 3, 32, 32)
    assert_no_ties(model, images)
    elements = finite_group(group)
    clean = scores(model, images)
    for index in range(1, len(elements)):
        moved = elements.act(images, index)
        assert torch.equal(scores(model, moved), clean), elements.elements[index].label
        predicted = model.canonicalize(moved).elements
        expected = [elements.compose(index, int(g)) for g in model.canonicalize(images).elements]
        assert predicted.tolist() == expected  # ĝ(h x) = h ĝ(x)


def test_segmentor_is_exactly_equivariant_at_eval():
    model = canon('mmseg', tiny_segmentor()).eval()
    images = torch.randn(2, 3, 32, 32)
    assert_no_ties(model, images)
    clean = seg_logits(model, images)
    for turns in (1, 2, 3):
        moved = seg_logits(model, torch.rot90(images, turns, (-2, -1)))
        assert torch.equal(moved, torch.rot90(clean, turns, (-2, -1))), turns


def test_straight_through_forward_is_the_hard_canonical_input():
    model = canon('mmpretrain', resnet_classifier()).train()
    images = torch.randn(4, 3, 32, 32, requires_grad=True)
    result = model.canonicalize(images)
    group = model.canonical_group
    hard = torch.stack([group.act_inverse(image, int(g))
                        for image, g in zip(images.detach(), result.elements)])
    assert torch.equal(result.inputs.detach(), hard)
    assert result.inputs.grad_fn is not None


def test_straight_through_gradient_is_the_documented_formula():
    """For ``L = ⟨c, x̂⟩``: ``∂L/∂p_g = ⟨c, g⁻¹·x⟩`` (the module docstring), so through
    ``p = softmax(s)``: ``∂L/∂s = p ⊙ (v − ⟨p, v⟩)`` with ``v_g = ⟨c, g⁻¹·x⟩`` per sample, in
    sign and size (a flipped ``p − stopgrad(p)`` keeps the forward and negates this)."""
    model = canon('mmpretrain', resnet_classifier()).train()
    images = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    weights = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    result = model.canonicalize(images)
    result.scores.retain_grad()
    (weights * result.inputs).sum().backward()
    group = model.canonical_group
    with torch.no_grad():
        v = torch.stack([(weights * group.act_inverse(images, g)).sum(dim=(1, 2, 3))
                         for g in range(len(group))], dim=1)             # (B, |G|)
        p = F.softmax(result.scores, dim=1)
        expected = p * (v - (p * v).sum(dim=1, keepdim=True))
    assert expected.abs().max() > 1e-3  # a non-trivial case
    torch.testing.assert_close(result.scores.grad, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('scope, model_cfg, samples', [
    ('mmseg', tiny_segmentor(), lambda: seg_samples(2, 32, 32, labels=True)),
    ('mmpretrain', resnet_classifier(), lambda: cls_samples(2)),
])
def test_task_loss_gradients_reach_the_canonicalizer(scope, model_cfg, samples):
    model = canon(scope, model_cfg, prior_weight=0.0).train()
    losses = model.loss(torch.randn(2, 3, 32, 32), samples())
    assert float(losses['loss_prior'].detach()) == 0.0
    task = sum(value for key, value in losses.items() if 'loss' in key and key != 'loss_prior')
    task.backward()
    grads = {name: param.grad for name, param in model.canonicalizer.named_parameters()}
    assert grads['score_weight'] is not None and grads['score_weight'].abs().sum() > 0
    stem = grads['network.stem.conv.weight']
    assert stem is not None and stem.abs().sum() > 0


def test_prior_loss_is_cross_entropy_to_the_identity():
    model = canon('mmpretrain', resnet_classifier(), prior_weight=2.5).train()
    images = torch.randn(3, 3, 32, 32)
    torch.manual_seed(0)
    losses = model.loss(images, cls_samples(3))
    model.train()
    torch.manual_seed(0)
    with torch.no_grad():
        expected = 2.5 * F.cross_entropy(model.canonicalizer(images),
                                         torch.zeros(3, dtype=torch.long))
    assert torch.allclose(losses['loss_prior'].detach(), expected, atol=1e-6)
    assert 0.0 <= float(losses['canon_identity_rate']) <= 1.0
    assert losses['loss_prior'].requires_grad


def test_segmentation_labels_follow_the_canonical_rotation(monkeypatch):
    model = canon('mmseg', tiny_segmentor()).train()
    base = build('mmseg', tiny_segmentor()).train()
    base.load_state_dict(model.state_dict(), strict=False)
    fixed = torch.tensor([[0., 5., 0., 0.], [0., 0., 0., 5.]])   # ĝ = rot90, rot270
    monkeypatch.setattr(model.canonicalizer, 'forward', lambda inputs: fixed)
    images = torch.randn(2, 3, 32, 32)
    ours = model.loss(images, seg_samples(2, 32, 32, labels=True))['decode.loss_ce']
    expected_samples = seg_samples(2, 32, 32, labels=True)
    canonical = []
    for i, turns in enumerate((-1, -3)):  # ĝ⁻¹
        expected_samples[i].gt_sem_seg.data = torch.rot90(
            expected_samples[i].gt_sem_seg.data, turns, (-2, -1))
        canonical.append(torch.rot90(images[i], turns, (-2, -1)))
    expected = base.loss(torch.stack(canonical), expected_samples)['decode.loss_ce']
    assert torch.allclose(ours, expected)


@pytest.mark.parametrize('keys, error, message', [
    (dict(canonicalizer=dict(group='C8')), ValueError,
     r"canonicalizer.*one of 'C1', 'C2', 'C4', 'D1', 'D2', 'D4'; got 'C8'"),
    (dict(canonicalizer=dict(group='SO2')), ValueError, 'finite planar group'),
    (dict(prior_weight=-1.0), ValueError, 'prior_weight must be a finite float >= 0'),
    (dict(canonicalizer=dict(groups='C4')), TypeError, "canonicalizer: .*'groups'"),
    (dict(canonicalizer=dict(input_size=0)), ValueError, 'input_size must be a positive int'),
])
def test_bad_keys_fail_before_building(keys, error, message):
    init_default_scope('mmseg')
    with pytest.raises(error, match=message):
        MODELS.build(dict(type='mmsofteq.CanonicalizedModel',
                          model=dict(type='NotEvenARegisteredType'), **keys))


def test_rejects_models_that_are_not_segmentors_or_classifiers():
    with pytest.raises(TypeError, match='wraps segmentors and classifiers'):
        canon('mmseg', mmseg_vit())


def test_default_canonicalizer_is_a_c4_gcnn_from_random_init():
    init_default_scope('mmpretrain')
    model = MODELS.build(dict(type='mmsofteq.CanonicalizedModel', model=resnet_classifier()))
    assert isinstance(model.canonicalizer, GroupCanonicalizer)
    assert model.canonical_group.name == 'C4' and model.canonicalizer.input_size == 64
    assert model.canon_settings.prior_weight == 1.0


def test_deep_copy_and_pickle_keep_the_canonicalizer():
    model = canon('mmpretrain', resnet_classifier()).eval()
    images = torch.randn(2, 3, 32, 32)
    expected = scores(model, images)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert type(clone) is type(model) and list(clone.state_dict()) == list(
            model.state_dict())
        assert torch.equal(scores(clone, images), expected)


def test_warns_when_evaluation_angles_leave_the_canonicalizer_group():
    model = canon('mmpretrain', resnet_classifier())
    with pytest.warns(UserWarning, match=r'CanonicalizedModel: group C4.*U\(-30°, 30°\)'):
        assert model.check_evaluation_angles(dict(kind='uniform', low=-30.0, high=30.0))
    assert model.check_evaluation_angles(dict(kind='list', values=[0.0, 90.0, -180.0])) is None
