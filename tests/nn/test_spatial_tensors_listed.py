"""No silent spatial tensor: every spatial tensor of the surveyed families is projected or listed
untouched with the reason, wherever it sits in the model; ``rules='auto'`` covers a backbone
around a nested ruled one (ICNet around its ResNet)."""
import pytest
from mmengine.registry import MODELS, init_default_scope

from mmsofteq.nn import inject_soft_equivariance

SOFTEQ = dict(group='C4', softness=0.5, rules='auto')
BN = dict(type='BN', requires_grad=True)

# family: (scope, config, {parameter-name suffix: reason fragment}, slow)
FAMILIES = {
    'MViTv2': ('mmpretrain', dict(type='MViT', arch='tiny', img_size=64),
               {'attn.rel_pos_h': 'decomposed relative-position table',
                'attn.rel_pos_w': 'decomposed relative-position table'}, True),
    'ViT-SAM': ('mmpretrain', dict(type='ViTSAM', arch='base', img_size=64, window_size=2,
                                   use_rel_pos=True),
                {'attn.rel_pos_h': 'decomposed relative-position table',
                 'pos_embed': 'position grid stored as a 4-D'}, True),
    'LeViT': ('mmpretrain', dict(type='LeViT', arch='128s', img_size=64),
              {'attention_biases': 'attention biases indexed by offset pairs'}, False),
    'TinyViT': ('mmpretrain', dict(type='TinyViT', arch='5m', img_size=(64, 64),
                                   window_size=[2, 2, 2, 2]),
                {'attn.attention_biases': 'attention biases indexed by offset pairs'}, True),
    'EfficientFormer': ('mmpretrain', dict(type='EfficientFormer', arch='l1'),
                        {'token_mixer.attention_biases':
                         'attention biases indexed by offset pairs'}, True),
    'HorNet-gf': ('mmpretrain', dict(type='HorNet', arch='tiny-gf'),
                  {'dwconv.complex_weight': 'global filter in the Fourier domain'}, True),
    'TNT': ('mmpretrain', dict(type='TNT', arch='s', img_size=64),
            {'pixel_pos': 'position grid stored as a 4-D'}, False),
    'Vig': ('mmpretrain', dict(type='Vig', arch='tiny'),
            {'pos_embed': 'position grid stored as a 4-D'}, False),
    'MLP-Mixer': ('mmpretrain', dict(type='MlpMixer', arch='b', img_size=64, patch_size=16),
                  {'token_mix.layers.1.weight': 'token-mixing Linear'}, True),
    'DPT': ('mmseg', dict(
        type='EncoderDecoder', data_preprocessor=dict(type='SegDataPreProcessor'),
        backbone=dict(type='VisionTransformer', img_size=64, patch_size=16, embed_dims=32,
                      num_layers=4, num_heads=2, out_indices=(0, 1, 2, 3), final_norm=False,
                      with_cls_token=True, output_cls_token=True),
        decode_head=dict(type='DPTHead', in_channels=(32, 32, 32, 32), channels=16,
                         embed_dims=32, post_process_channels=[8, 16, 32, 32], num_classes=4,
                         readout_type='project', input_transform='multiple_select',
                         in_index=(0, 1, 2, 3), norm_cfg=BN,
                         loss_decode=dict(type='CrossEntropyLoss')),
        train_cfg=dict(), test_cfg=dict(mode='whole')),
        {'reassemble_blocks.resize_layers.0.weight':
         'outside the ruled backbone(s); kernel of a ConvTranspose2d'}, False),
}


@pytest.mark.parametrize('family', [
    pytest.param(name, marks=pytest.mark.slow) if slow else name
    for name, (_, _, _, slow) in FAMILIES.items()])
def test_every_spatial_tensor_is_projected_or_listed_with_its_reason(family):
    scope, cfg, expected, _ = FAMILIES[family]
    init_default_scope(scope)
    model = MODELS.build(cfg)
    report = inject_soft_equivariance(model, SOFTEQ, log=False)
    untouched = {entry.name: entry.reason for entry in report.untouched}
    projected = {entry.name for entry in report.projected}
    for suffix, reason in expected.items():
        names = [name for name, _ in model.named_parameters() if name.endswith(suffix)]
        assert names, (family, suffix)
        for name in names:
            assert name not in projected
            assert reason in untouched.get(name, ''), (family, name, untouched.get(name))
    assert reason.split(';')[0] in report.format(verbose=True)


def test_auto_rules_cover_a_backbone_around_a_nested_ruled_one():
    """ICNet holds a ResNet (which has built-in rules): rules='auto' keeps the ResNet's rules
    and infers ICNet's own for the rest, so its 3x3 convs are projected too."""
    init_default_scope('mmseg')
    cfg = dict(
        type='EncoderDecoder', data_preprocessor=dict(type='SegDataPreProcessor'),
        backbone=dict(type='ICNet', backbone_cfg=dict(
            type='ResNetV1c', depth=18, num_stages=4, out_indices=(0, 1, 2, 3),
            dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1), norm_cfg=BN, contract_dilation=True),
            in_channels=3, layer_channels=(128, 512), light_branch_middle_channels=8,
            psp_out_channels=32, out_channels=(8, 16, 16), norm_cfg=BN),
        neck=dict(type='ICNeck', in_channels=(8, 16, 16), out_channels=16, norm_cfg=BN),
        decode_head=dict(type='FCNHead', in_channels=16, channels=16, num_convs=1, in_index=2,
                         num_classes=4, concat_input=False, norm_cfg=BN,
                         loss_decode=dict(type='CrossEntropyLoss')),
        train_cfg=dict(), test_cfg=dict(mode='whole'))
    plain = inject_soft_equivariance(MODELS.build(cfg), dict(group='C4', softness=0.5),
                                     log=False)
    auto = inject_soft_equivariance(MODELS.build(cfg), SOFTEQ, log=False)
    assert [key for _, key in plain.backbones] == ['mmseg.ResNet']
    assert [path for path, _ in auto.backbones] == ['backbone.backbone', 'backbone']
    own = [name for name in auto.projected_names() if name.startswith('backbone.conv_sub1')]
    assert own and not any(name.startswith('backbone.conv_sub1') for name in plain.projected_names())
    assert set(plain.projected_names()) < set(auto.projected_names())
    assert 'backbone.backbone keeps its own rules' in auto.format()
