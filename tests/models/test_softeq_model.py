"""``mmsofteq.SoftEqModel``: the built model is the base model (same class, same keys)."""
import textwrap

import pytest
import torch
from fixtures import tiny_segformer_cfg
from fixtures.tiny_models import build, classifier, mmseg_vit, pretrain_vit
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
