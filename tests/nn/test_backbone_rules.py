"""Built-in rules of the common backbone families on the real mmseg / mmpretrain classes (tiny
widths, random init), relative-position tables, deformable convs, ``rules='auto'`` and the
errors for ``softeq.rules`` typos."""
import copy
from dataclasses import dataclass, field
from typing import Callable, Optional

import pytest
import torch
from fixtures.tiny_models import build, classifier, mit, pretrain_resnet, pretrain_vit
from torch import nn

from mmsofteq.nn import SoftEqConfig, inject_soft_equivariance
from mmsofteq.nn.rules import BUILTIN_RULES, Rule, parse_rules
from mmsofteq.nn.structure import auto_rules, token_grid

PATCH = 'patch_embed.projection.weight'
TINY_ARCH = dict(embed_dims=16, num_layers=1, num_heads=2, feedforward_channels=32)
HRNET_EXTRA = dict(
    stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(1, ),
                num_channels=(4, )),
    stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(1, 1),
                num_channels=(4, 8)),
    stage3=dict(num_modules=1, num_branches=3, block='BASIC', num_blocks=(1, 1, 1),
                num_channels=(4, 8, 16)),
    stage4=dict(num_modules=1, num_branches=4, block='BASIC', num_blocks=(1, 1, 1, 1),
                num_channels=(4, 8, 16, 32)))
TWINS = dict(embed_dims=[8, 16], patch_sizes=[4, 2], strides=[4, 2], num_heads=[1, 2],
             mlp_ratios=[2, 2], sr_ratios=[2, 1])
MERGING = 'Linear over nn.Unfold 2x2 windows (patch merging)'


def swin_tables(stages: int = 2) -> set:
    return {f'stages.{i}.blocks.0.attn.w_msa.relative_position_bias_table'
            for i in range(stages)}


@dataclass
class Family:
    """A backbone config and the names its rules must give each kind (``conv``: every other
    square ``k > 1`` kernel, computed); ``untouched``: reason substrings that must appear."""

    scope: str
    cfg: dict
    key: str
    patch_embed: set
    pos_embed: set = field(default_factory=set)
    rel_pos: set = field(default_factory=set)
    untouched: tuple = ()
    size: int = 32
    forward: Optional[Callable] = None


FAMILIES = {
    # mmseg
    'mmseg-swin': Family('mmseg', dict(type='SwinTransformer', pretrain_img_size=32,
                                       embed_dims=8, depths=(1, 1), num_heads=(1, 1),
                                       strides=(4, 2), window_size=4, out_indices=(0, 1),
                                       use_abs_pos_embed=True),
                         'mmseg.SwinTransformer', {PATCH}, {'absolute_pos_embed'},
                         swin_tables(), (MERGING, )),
    'mmseg-swin-default': Family('mmseg', dict(type='SwinTransformer', embed_dims=8,
                                               depths=(1, 1), num_heads=(1, 1), strides=(4, 2),
                                               window_size=4, out_indices=(0, 1)),
                                 'mmseg.SwinTransformer', {PATCH}, set(), swin_tables(),
                                 (MERGING, )),
    'mmseg-beit': Family('mmseg', dict(type='BEiT', img_size=32, patch_size=8, embed_dims=16,
                                       num_layers=2, num_heads=2, out_indices=(1, )),
                         'mmseg.BEiT', {PATCH}, set(),
                         {f'layers.{i}.attn.relative_position_bias_table' for i in range(2)}),
    'mmseg-mae': Family('mmseg', dict(type='MAE', img_size=32, patch_size=8, embed_dims=16,
                                      num_layers=1, num_heads=2, out_indices=(0, )),
                        'mmseg.MAE', {PATCH}, {'pos_embed'},
                        {'layers.0.attn.relative_position_bias_table'}),
    # mmseg's ConvNeXt configs use mmpretrain's class
    'mmseg-convnext': Family('mmseg', dict(type='mmpretrain.ConvNeXt',
                                           arch=dict(depths=[1, 1], channels=[8, 16]),
                                           out_indices=(0, 1)),
                             'mmpretrain.ConvNeXt',
                             {'downsample_layers.0.0.weight', 'downsample_layers.1.1.weight'}),
    'mmseg-mobilenet_v2': Family('mmseg', dict(type='MobileNetV2', widen_factor=0.25),
                                 'mmseg.MobileNetV2', {'conv1.conv.weight'}),
    'mmseg-mobilenet_v3': Family('mmseg', dict(type='MobileNetV3', arch='small'),
                                 'mmseg.MobileNetV3', {'layer0.conv.weight'}),
    'mmseg-hrnet': Family('mmseg', dict(type='HRNet', extra=HRNET_EXTRA), 'mmseg.HRNet',
                          {'conv1.weight', 'conv2.weight'}),
    'mmseg-pcpvt': Family('mmseg', dict(type='PCPVT', depths=[1, 1], out_indices=(0, 1),
                                        **TWINS),
                          'mmseg.PCPVT', {f'patch_embeds.{i}.projection.weight' for i in (0, 1)}),
    'mmseg-svt': Family('mmseg', dict(type='SVT', depths=[2, 2], windiow_sizes=[2, 2],
                                      out_indices=(0, 1), **TWINS),
                        'mmseg.PCPVT', {f'patch_embeds.{i}.projection.weight' for i in (0, 1)}),
    'mmseg-mscan': Family('mmseg', dict(type='MSCAN', embed_dims=[8, 16], depths=[1, 1],
                                        num_stages=2, mlp_ratios=[2, 2]),
                          'mmseg.MSCAN', {'patch_embed1.proj.0.weight',
                                          'patch_embed1.proj.3.weight',
                                          'patch_embed2.proj.weight'},
                          untouched=('non-square kernel 1x7', 'non-square kernel 21x1')),
    # mmpretrain
    'mmpretrain-convnext': Family('mmpretrain', dict(type='ConvNeXt', arch=dict(
        depths=[1, 1], channels=[8, 16]), out_indices=(0, 1)), 'mmpretrain.ConvNeXt',
        {'downsample_layers.0.0.weight', 'downsample_layers.1.1.weight'}),
    'mmpretrain-swin': Family('mmpretrain', dict(type='SwinTransformer', arch=dict(
        embed_dims=8, depths=[1, 1], num_heads=[1, 1]), img_size=32, window_size=4,
        out_indices=(0, 1), use_abs_pos_embed=True), 'mmpretrain.SwinTransformer', {PATCH},
        {'absolute_pos_embed'}, swin_tables(), (MERGING, )),
    'mmpretrain-efficientnet': Family('mmpretrain', dict(type='EfficientNet', arch='b0'),
                                      'mmpretrain.EfficientNet', {'layers.0.conv.weight'}),
    'mmpretrain-efficientnet-edgetpu': Family('mmpretrain', dict(type='EfficientNet',
                                                                 arch='es'),
                                              'mmpretrain.EfficientNet',
                                              {'layers.0.conv.weight'}),
    'mmpretrain-mobilenet_v2': Family('mmpretrain', dict(type='MobileNetV2', widen_factor=0.25),
                                      'mmpretrain.MobileNetV2', {'conv1.conv.weight'}),
    'mmpretrain-mobilenet_v3': Family('mmpretrain', dict(type='MobileNetV3', arch='small_050'),
                                      'mmpretrain.MobileNetV3', {'layer0.conv.weight'}),
    'mmpretrain-poolformer': Family('mmpretrain', dict(type='PoolFormer', arch=dict(
        layers=[1, 1, 1, 1], embed_dims=[8, 16, 24, 32]), out_indices=(0, 2, 4, 6)),
        'mmpretrain.PoolFormer',
        {'patch_embed.proj.weight'} | {f'network.{i}.proj.weight' for i in (1, 3, 5)}),
    'mmpretrain-repvgg': Family('mmpretrain', dict(type='RepVGG', arch=dict(
        num_blocks=[1, 1, 1, 1], width_factor=[0.125] * 4, group_layer_map=None,
        se_cfg=None)), 'mmpretrain.RepVGG', {'stem.branch_3x3.conv.weight'}),
    'mmpretrain-repvgg-deploy': Family('mmpretrain', dict(type='RepVGG', deploy=True, arch=dict(
        num_blocks=[1, 1, 1, 1], width_factor=[0.125] * 4, group_layer_map=None,
        se_cfg=None)), 'mmpretrain.RepVGG', {'stem.branch_reparam.weight'}),
    'mmpretrain-hrnet': Family('mmpretrain', dict(type='HRNet', extra=HRNET_EXTRA),
                               'mmpretrain.HRNet', {'conv1.weight', 'conv2.weight'}),
    'mmpretrain-pcpvt': Family('mmpretrain', dict(type='PCPVT', arch=dict(depths=[1, 1],
                                                                          **TWINS),
                                                  out_indices=(0, 1)),
                               'mmpretrain.PCPVT',
                               {f'patch_embeds.{i}.projection.weight' for i in (0, 1)}),
    'mmpretrain-svt': Family('mmpretrain', dict(type='SVT', arch=dict(
        depths=[2, 2], window_sizes=[2, 2], **TWINS), out_indices=(0, 1)), 'mmpretrain.PCPVT',
        {f'patch_embeds.{i}.projection.weight' for i in (0, 1)}),
    'mmpretrain-van': Family('mmpretrain', dict(type='VAN', arch=dict(
        embed_dims=[8, 16], depths=[1, 1], ffn_ratios=[2, 2]), patch_sizes=[7, 3],
        out_indices=(1, )), 'mmpretrain.VAN',
        {f'patch_embed{i}.projection.weight' for i in (1, 2)}),
    'mmpretrain-beit': Family('mmpretrain', dict(type='BEiTViT', arch=TINY_ARCH, img_size=32,
                                                 patch_size=8), 'mmpretrain.BEiTViT', {PATCH},
                              set(), {'layers.0.attn.relative_position_bias_table'}),
    'mmpretrain-beit-shared': Family('mmpretrain', dict(
        type='BEiTViT', arch=TINY_ARCH, img_size=32, patch_size=8, use_abs_pos_emb=True,
        use_rel_pos_bias=False, use_shared_rel_pos_bias=True), 'mmpretrain.BEiTViT', {PATCH},
        {'pos_embed'}, {'rel_pos_bias.relative_position_bias_table'}),
    'mmpretrain-beit-plain': Family('mmpretrain', dict(type='BEiTViT', arch=TINY_ARCH,
                                                       img_size=32, patch_size=8,
                                                       use_rel_pos_bias=False),
                                    'mmpretrain.BEiTViT', {PATCH}),
    'mmpretrain-eva02': Family('mmpretrain', dict(type='ViTEVA02', arch=TINY_ARCH, img_size=32,
                                                  patch_size=8),
                               'mmpretrain.VisionTransformer', {PATCH}, {'pos_embed'}),
    'mmpretrain-deit': Family('mmpretrain', dict(type='DistilledVisionTransformer',
                                                 arch=TINY_ARCH, img_size=32, patch_size=8),
                              'mmpretrain.VisionTransformer', {PATCH}, {'pos_embed'}),
    'mmpretrain-deit3': Family('mmpretrain', dict(type='DeiT3', arch=TINY_ARCH, img_size=32,
                                                  patch_size=8),
                               'mmpretrain.VisionTransformer', {PATCH}, {'pos_embed'}),
    'mmpretrain-mae': Family('mmpretrain', dict(type='MAEViT', arch=TINY_ARCH, img_size=32,
                                                patch_size=8),
                             'mmpretrain.VisionTransformer', {PATCH}, {'pos_embed'},
                             forward=lambda model, x: model(x, mask=None)),
}


def flatten(out) -> list:
    if isinstance(out, (tuple, list)):
        return [tensor for item in out for tensor in flatten(item)]
    return [out]


def outputs(model: nn.Module, x: torch.Tensor, family: Family) -> list:
    with torch.no_grad():
        out = flatten(family.forward(model, x) if family.forward else model(x))
    assert out, 'the backbone returned no output'
    return out


def spatial_tensors(model: nn.Module) -> set:
    """Every tensor with a spatial extent, found independently of mmsofteq's helpers: 4-D
    ``k > 1`` weights, ``(1, L, C)`` non-token parameters, relative-position tables, Linears
    fed by an ``nn.Unfold``."""
    names = set()
    for path, module in model.named_modules():
        prefix = f'{path}.' if path else ''
        for name, parameter in module._parameters.items():
            if parameter is None:
                continue
            if parameter.dim() == 4 and max(parameter.shape[2:]) > 1:
                names.add(prefix + name)
            elif name == 'relative_position_bias_table':
                names.add(prefix + name)
            elif (parameter.dim() == 3 and parameter.shape[0] == 1 and parameter.shape[1] > 1
                  and 'token' not in name):
                names.add(prefix + name)
        if any(isinstance(child, nn.Unfold) for child in module.children()):
            names |= {f'{prefix}{child_name}.weight' for child_name, child in
                      module.named_children() if isinstance(child, nn.Linear)}
    return names


def square_kernels(model: nn.Module) -> set:
    return {f'{path}.weight' for path, module in model.named_modules()
            if isinstance(module, nn.Conv2d) and module.kernel_size[0] == module.kernel_size[1]
            and module.kernel_size[0] > 1}


@pytest.mark.parametrize('family_id', list(FAMILIES))
def test_backbone_family_rules(family_id):
    family = FAMILIES[family_id]
    torch.manual_seed(0)
    base = build(family.scope, family.cfg)
    base.init_weights()
    base.eval()
    keys = list(base.state_dict())
    x = torch.randn(2, 3, family.size, family.size)
    expected = outputs(base, x, family)

    # softness 1: nothing is projected, outputs are bit-identical, keys unchanged
    identity = copy.deepcopy(base)
    report = inject_soft_equivariance(identity, dict(group='C4', softness=1.0), log=False)
    assert report.num_projected == 0 and report.projected
    assert all(torch.equal(a, b) for a, b in zip(outputs(identity, x, family), expected))
    assert list(identity.state_dict()) == keys

    soft = copy.deepcopy(base)
    report = inject_soft_equivariance(soft, dict(group='C4', softness=0.5), log=False)
    assert report.backbones == [('', family.key)]
    assert list(soft.state_dict()) == keys
    kinds = {}
    for entry in report.projected:
        assert not entry.identity
        kinds.setdefault(entry.kind, set()).add(entry.name)
    conv = square_kernels(base) - family.patch_embed
    wanted = dict(patch_embed=family.patch_embed, pos_embed=family.pos_embed,
                  rel_pos=family.rel_pos, conv=conv)
    assert kinds == {kind: names for kind, names in wanted.items() if names}
    # every spatial tensor is in the report: projected, or untouched with its reason
    untouched = {entry.name: entry.reason for entry in report.untouched}
    assert spatial_tensors(base) <= set().union(*kinds.values()) | set(untouched)
    assert all(reason for reason in untouched.values())
    assert not any(reason.startswith('no kernel rule') for reason in untouched.values())
    for needle in family.untouched:
        assert any(needle in reason for reason in untouched.values()), (needle, untouched)
    changed = outputs(soft, x, family)
    assert [o.shape for o in changed] == [o.shape for o in expected]
    assert any(not torch.equal(a, b) for a, b in zip(changed, expected))


def test_every_builtin_key_is_exercised():
    keys = {family.key for family in FAMILIES.values()}
    tested_elsewhere = {'mmseg.MixVisionTransformer', 'mmseg.VisionTransformer', 'mmseg.ResNet',
                        'mmpretrain.ResNet'}  # test_softeq_injection.py
    assert set(BUILTIN_RULES) == keys | tested_elsewhere


# ----------------------------------------------------------------- relative-position tables


def rot90_window(size: int, extra_first: bool = False) -> torch.Tensor:
    """Token permutation of a rot90 of a ``size x size`` row-major window (cls token first)."""
    perm = torch.rot90(torch.arange(size * size).view(size, size), 1, (0, 1)).flatten()
    return torch.cat((torch.zeros(1, dtype=perm.dtype), perm + 1)) if extra_first else perm


@pytest.mark.parametrize('scope, cfg, owner, window, extra', [
    ('mmseg', FAMILIES['mmseg-swin'].cfg, 'stages.0.blocks.0.attn.w_msa', 4, 0),
    ('mmpretrain', FAMILIES['mmpretrain-swin'].cfg, 'stages.1.blocks.0.attn.w_msa', 4, 0),
    ('mmseg', FAMILIES['mmseg-beit'].cfg, 'layers.1.attn', 4, 3),
    ('mmpretrain', FAMILIES['mmpretrain-beit'].cfg, 'layers.0.attn', 4, 3),
    ('mmpretrain', FAMILIES['mmpretrain-beit-shared'].cfg, 'rel_pos_bias', 4, 3),
])
def test_c4_strict_rel_pos_table_is_rot90_invariant_and_permutes_with_the_tokens(
        scope, cfg, owner, window, extra):
    torch.manual_seed(0)
    model = build(scope, cfg)
    model.init_weights()
    module = model.get_submodule(owner)
    with torch.no_grad():
        module._parameters['relative_position_bias_table'].normal_()
    theta = module._parameters['relative_position_bias_table'].detach().clone()
    side = 2 * window - 1
    assert theta.shape[0] == side * side + extra

    def bias_matrix(table):  # (tokens, tokens, heads) exactly as the attention builds it
        tokens = module.relative_position_index.shape[0]
        return table[module.relative_position_index.reshape(-1)].reshape(tokens, tokens, -1)

    perm = rot90_window(window, extra_first=extra > 0)
    unprojected = bias_matrix(theta)
    assert not torch.allclose(unprojected[perm][:, perm], unprojected, atol=1e-3)

    report = inject_soft_equivariance(model, dict(group='C4', softness=dict(
        rel_pos=0.0, default=1.0)), log=False)
    name = f'{owner}.relative_position_bias_table'
    assert name in report.projected_names()
    assert {e.kind for e in report.projected if not e.identity} == {'rel_pos'}
    entry = report.projected[[e.name for e in report.projected].index(name)]
    assert (entry.kind, entry.target, entry.grid_size) == ('rel_pos', 'offset_grid', side)
    table = module.relative_position_bias_table
    grid = table[:side * side].reshape(side, side, -1)
    for turns in (1, 2, 3):
        assert torch.allclose(torch.rot90(grid, turns, (0, 1)), grid, atol=1e-6)
    assert torch.equal(table[side * side:], theta[side * side:])  # BEiT's cls rows
    assert grid.abs().max() > 0
    # offsets are rows-then-columns of Δ = p - q: the bias permutes with the rotated window
    bias = bias_matrix(table)
    assert torch.allclose(bias[perm][:, perm], bias, atol=1e-6)


@pytest.mark.parametrize('family_id', ['mmseg-swin', 'mmpretrain-beit-shared'])
def test_export_writes_projected_tables_and_grids_into_a_plain_model(family_id):
    from mmsofteq.nn import export_model, is_swapped
    family = FAMILIES[family_id]
    torch.manual_seed(0)
    model = build(family.scope, family.cfg)
    model.init_weights()
    model.eval()
    report = inject_soft_equivariance(model, dict(group='SO2', softness=0.5), log=False)
    assert {'rel_pos', 'pos_embed'} <= {entry.kind for entry in report.projected}
    x = torch.randn(1, 3, 32, 32)
    injected = outputs(model, x, family)
    export_model(model)
    assert not any(is_swapped(module) for module in model.modules())
    assert all(torch.equal(a, b) for a, b in zip(outputs(model, x, family), injected))


def test_non_square_beit_window_leaves_the_offset_grid_untouched():
    model = build('mmseg', dict(FAMILIES['mmseg-beit'].cfg, img_size=(32, 16)))
    report = inject_soft_equivariance(model, dict(group='C4', softness=0.5), log=False)
    untouched = {entry.name: entry.reason for entry in report.untouched}
    assert untouched['layers.0.attn.relative_position_bias_table'] == (
        'non-square offset grid 7x3: no rotation projector')
    assert report.projected_names() == [PATCH]


def test_rel_pos_needs_a_softness_in_a_per_kind_dict():
    model = build('mmseg', FAMILIES['mmseg-beit'].cfg)
    with pytest.raises(ValueError, match="no value for kind 'rel_pos'"):
        inject_soft_equivariance(model, dict(group='C4', softness=dict(patch_embed=0.5)),
                                 log=False)


def test_mae_frozen_sincos_pos_embed_is_projected_and_initialised_in_theta():
    from mmpretrain.models.utils import build_2d_sincos_position_embedding
    model = build('mmpretrain', FAMILIES['mmpretrain-mae'].cfg)
    inject_soft_equivariance(model, dict(group='C4', softness=dict(pos_embed=0.0,
                                                                   default=1.0)), log=False)
    model.init_weights()  # writes the fixed 2-D sin-cos grid into θ (raw_parameters)
    theta = model._parameters['pos_embed']
    assert not theta.requires_grad
    sincos = build_2d_sincos_position_embedding(4, 16, cls_token=True)
    assert torch.allclose(theta, sincos)
    grid = model.pos_embed[0, 1:].reshape(4, 4, 16)
    assert torch.allclose(torch.rot90(grid, 1, (0, 1)), grid, atol=1e-6)
    assert not torch.allclose(theta[0, 1:].reshape(4, 4, 16).rot90(1, (0, 1)),
                              theta[0, 1:].reshape(4, 4, 16), atol=1e-3)
    assert torch.equal(model.pos_embed[:, 0], theta[:, 0])  # the cls slot is not projected


# ---------------------------------------------------------------------------- ResNet stems


@pytest.mark.parametrize('scope, cfg, stem', [
    ('mmseg', dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=8),
     {'stem.0.weight', 'stem.3.weight', 'stem.6.weight'}),
    ('mmseg', dict(type='ResNet', depth=18, base_channels=8), {'conv1.weight'}),
    ('mmpretrain', dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=8),
     {'stem.0.conv.weight', 'stem.1.conv.weight', 'stem.2.conv.weight'}),
    ('mmpretrain', dict(type='ResNet', depth=18, base_channels=8), {'conv1.weight'}),
])
def test_resnet_stem_is_the_patch_embedding_and_every_other_kernel_a_conv(scope, cfg, stem):
    model = build(scope, cfg)
    report = inject_soft_equivariance(model, dict(group='C4', softness=0.5), log=False)
    kinds = {entry.name: entry.kind for entry in report.projected}
    assert {name for name, kind in kinds.items() if kind == 'patch_embed'} == stem
    others = set(kinds) - stem
    assert others and all(kinds[name] == 'conv' and name.startswith('layer')
                          for name in others)


# ----------------------------------------------------------------------- deformable convs


@pytest.mark.parametrize('dcn, owner', [('DCN', 'DeformConv2dPack'),
                                        ('DCNv2', 'ModulatedDeformConv2dPack')])
def test_deformable_convs_project_the_kernel_never_the_offsets(dcn, owner):
    torch.manual_seed(0)
    cfg = dict(type='ResNetV1c', depth=50, stem_channels=8, base_channels=8,
               dcn=dict(type=dcn, deform_groups=1, fallback_on_stride=False),
               stage_with_dcn=(False, True, False, False))
    base = build('mmseg', cfg)
    base.init_weights()
    base.eval()
    deformable = [f'layer2.{i}.conv2' for i in range(4)]
    assert all(type(base.get_submodule(name)).__name__ == owner for name in deformable)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        expected = base(x)
    keys = list(base.state_dict())

    identity = copy.deepcopy(base)
    inject_soft_equivariance(identity, dict(group='C4', softness=1.0), log=False)
    with torch.no_grad():
        assert all(torch.equal(a, b) for a, b in zip(identity(x), expected))

    model = copy.deepcopy(base)
    report = inject_soft_equivariance(model, dict(group='C4', softness=0.0), log=False)
    projected = {entry.name: entry.kind for entry in report.projected}
    untouched = {entry.name: entry.reason for entry in report.untouched}
    for name in deformable:
        assert projected[f'{name}.weight'] == 'conv'
        assert untouched[f'{name}.conv_offset.weight'].startswith(
            f'offset/mask conv of a deformable conv ({owner}): its outputs are 2-D sampling '
            'offsets')
        weight = model.get_submodule(name).weight  # what mmcv's forward reads
        assert torch.allclose(weight, torch.rot90(weight, 1, (2, 3)), atol=1e-6)
    assert list(model.state_dict()) == keys
    with torch.no_grad():
        assert [o.shape for o in model(x)] == [o.shape for o in expected]


def test_an_include_pattern_never_projects_an_offset_conv():
    model = build('mmseg', dict(type='ResNetV1c', depth=50, stem_channels=8, base_channels=8,
                                dcn=dict(type='DCNv2', deform_groups=1,
                                         fallback_on_stride=False),
                                stage_with_dcn=(False, True, False, False)))
    report = inject_soft_equivariance(model, dict(group='C4', softness=0.5, include=[
        r'conv_offset']), log=False)
    assert not any('conv_offset' in name for name in report.projected_names())


# ------------------------------------------------------------------------- rules='auto'


def shufflenet_classifier() -> nn.Module:
    return build('mmpretrain', dict(
        type='ImageClassifier', backbone=dict(type='ShuffleNetV2', widen_factor=0.5),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=3, in_channels=1024)))


def test_auto_rules_on_an_unknown_backbone_report_each_decision():
    model = shufflenet_classifier()
    base = copy.deepcopy(model)
    report = inject_soft_equivariance(model, dict(group='C4', softness=0.5, rules='auto'),
                                      log=False)
    assert report.backbones == [('backbone', 'auto')]
    kinds = {}
    for entry in report.projected:
        kinds.setdefault(entry.kind, set()).add(entry.name)
    convs = {f'backbone.{name}' for name in square_kernels(model.backbone)}
    assert kinds == dict(patch_embed={'backbone.conv1.conv.weight'},
                         conv=convs - {'backbone.conv1.conv.weight'})
    text = report.format()
    assert "rules='auto' for 'mmpretrain.ShuffleNetV2'" in text
    assert 'patch_embed: conv1.conv.weight (the first k>1 conv, 3x3)' in text
    # the decision, frozen as a config, gives the same report
    literal = report.notes[-1].split('as a config: softeq.rules=', 1)[1]
    rules = eval(literal, {'dict': dict})  # noqa: S307 (our own output)
    frozen = inject_soft_equivariance(base, dict(group='C4', softness=0.5, rules=rules),
                                      log=False)
    assert frozen.backbones == [('backbone', 'mmpretrain.ShuffleNetV2')]
    assert [(e.name, e.kind) for e in frozen.projected] == [
        (e.name, e.kind) for e in report.projected]


class TinyTokenNet(nn.Module):
    """An unregistered ViT-like backbone: patch conv, cls token, 4x4 position grid and a
    windowed relative-position table."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 4, stride=4)
        self.mix = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.cls_token = nn.Parameter(torch.randn(1, 1, 8))
        self.pos_embed = nn.Parameter(torch.randn(1, 1 + 16, 8))
        self.attn = nn.Module()
        self.attn.window_size = (4, 4)
        self.attn.relative_position_bias_table = nn.Parameter(torch.randn(49, 2))


def test_auto_rules_find_patch_embed_position_grid_and_rel_pos_table():
    model = TinyTokenNet()
    report = inject_soft_equivariance(model, dict(group='C4', softness=0.0, rules='auto'),
                                      log=False)
    assert report.backbones == [('', 'auto')]
    assert {e.name: (e.kind, e.target) for e in report.projected} == {
        'stem.weight': ('patch_embed', 'kernel'), 'mix.weight': ('conv', 'kernel'),
        'pos_embed': ('pos_embed', 'pos_grid'),
        'attn.relative_position_bias_table': ('rel_pos', 'offset_grid')}
    assert '  pos_embed: pos_embed (4x4 grid after 1 leading token(s))' in report.notes
    grid = model.pos_embed[0, 1:].reshape(4, 4, 8)
    assert torch.allclose(torch.rot90(grid, 1, (0, 1)), grid, atol=1e-6)
    assert torch.equal(model.pos_embed[:, 0], model._parameters['pos_embed'][:, 0])
    offsets = model.attn.relative_position_bias_table.reshape(7, 7, 2)
    assert torch.allclose(torch.rot90(offsets, 1, (0, 1)), offsets, atol=1e-6)


def test_auto_rules_agree_with_the_builtin_kinds_of_vits():
    for cfg, prefix in ((pretrain_vit(), 1), (FAMILIES['mmpretrain-deit'].cfg, 2),
                        (FAMILIES['mmpretrain-deit3'].cfg, 0)):
        inferred = auto_rules(build('mmpretrain', cfg))
        kinds = [(rule.kind, rule.pattern) for rule in inferred.rules]
        assert kinds == [('patch_embed', r'^patch_embed\.projection\.weight$'),
                         ('pos_embed', '^pos_embed$')]
        assert f'after {prefix} leading token(s)' in inferred.notes[-1]


def test_auto_is_only_a_fallback_and_needs_something_to_project():
    model = build('mmseg', mit())
    report = inject_soft_equivariance(model, dict(group='C4', softness=0.5, rules='auto'),
                                      log=False)
    assert report.backbones == [('', 'mmseg.MixVisionTransformer')] and report.notes == []
    with pytest.raises(ValueError, match="rules='auto' found no conv kernel, position grid"):
        inject_soft_equivariance(nn.Sequential(nn.Linear(4, 4)),
                                 dict(group='C4', softness=0.5, rules='auto'), log=False)


@pytest.mark.parametrize('tokens, preferred, grid', [
    (17, None, (1, 4)), (16, None, (0, 4)), (18, 2, (2, 4)), (16, 7, (7, 3)), (16, 1, (0, 4)),
    (5, None, (1, 2)), (30, None, (5, 5)), (1, None, None), (3, None, None), (35, None, None)])
def test_token_grid(tokens, preferred, grid):
    assert token_grid(tokens, preferred) == grid


def test_leading_token_slots_count_cls_distillation_and_register_tokens_not_mask_tokens():
    """A masked-image-modelling backbone's ``mask_token`` replaces patch tokens; it is never
    concatenated in front of the grid, so it is no prefix slot of a position grid."""
    from mmsofteq.nn.structure import _token_slots, position_grid

    backbone = nn.Module()
    backbone.cls_token = nn.Parameter(torch.zeros(1, 1, 8))
    backbone.dist_token = nn.Parameter(torch.zeros(1, 1, 8))
    backbone.register_tokens = nn.Parameter(torch.zeros(1, 4, 8))
    backbone.mask_token = nn.Parameter(torch.zeros(1, 1, 8))
    backbone.pos_embed = nn.Parameter(torch.zeros(1, 6 + 16, 8))
    assert _token_slots(backbone) == 6
    assert position_grid(backbone, 'pos_embed') == (6, 4)

# ---------------------------------------------------------------- typos in softeq.rules


def test_rules_auto_and_optional_rules_parse_and_round_trip():
    config = SoftEqConfig.from_dict(dict(group='C4', softness=0.5, rules='auto'))
    assert config.auto_rules and config.rule_table == ()
    assert SoftEqConfig.from_dict(config.as_dict()) == config
    parsed = parse_rules({'Foo': [dict(kind='rel_pos', pattern='table', target='offset_grid',
                                       grid=[4, 4], optional=True)]})
    assert parsed == (('Foo', (Rule('rel_pos', 'table', 'offset_grid', (4, 4), True), )), )
    assert parse_rules({'Foo': [parsed[0][1][0].as_dict()]}) == parsed
    with pytest.raises(ValueError, match="or 'auto'"):
        SoftEqConfig.from_dict(dict(group='C4', softness=0.5, rules='Auto'))
    with pytest.raises(ValueError, match="target='offset_grid' needs grid="):
        Rule('rel_pos', 'table', 'offset_grid')


def test_a_typo_in_a_rule_key_names_it():
    with pytest.raises(ValueError, match=r"unknown keys \['knd'\].*did you mean 'knd' -> 'kind'"):
        SoftEqConfig.from_dict(dict(group='C4', softness=0.5, rules={
            'mmseg.MixVisionTransformer': [dict(knd='conv', pattern=r'\.weight$')]}))


def test_a_backbone_key_that_matches_no_module_is_an_error():
    model = build('mmseg', mit())
    with pytest.raises(ValueError) as error:
        inject_soft_equivariance(model, dict(group='C4', softness=0.5, rules={
            'mmseg.MixVisionTransfomer': [dict(kind='conv', pattern=r'\.weight$')]}), log=False)
    message = str(error.value)
    assert "softeq.rules key 'mmseg.MixVisionTransfomer' matches no module" in message
    assert "Backbone types found: <model> 'mmseg.MixVisionTransformer'" in message
    assert "Did you mean 'mmseg.MixVisionTransformer'" in message
    classifier_model = build('mmpretrain', classifier(pretrain_resnet(), channels=64))
    with pytest.raises(ValueError, match=r"key 'ResNet-18' matches no module .* Backbone types "
                                         r"found: backbone 'mmpretrain.ResNet'"):
        inject_soft_equivariance(classifier_model, dict(group='C4', softness=0.5, rules={
            'ResNet-18': [dict(kind='conv', pattern=r'\.weight$')]}), log=False)


def test_a_backbone_key_whose_rules_would_never_apply_is_an_error():
    with pytest.raises(ValueError, match="'mmseg.BEiT' matches module '<model>'.* never be used: "
                                         "the more specific key 'mmseg.MAE' matches it first"):
        inject_soft_equivariance(build('mmseg', FAMILIES['mmseg-mae'].cfg), dict(
            group='C4', softness=0.5, rules={'mmseg.BEiT': [dict(kind='conv', pattern='.')]}),
            log=False)
    with pytest.raises(ValueError, match="'PatchEmbed' matches module 'patch_embed'.* inside the "
                                         "ruled backbone '<model>' .mmseg.SwinTransformer."):
        inject_soft_equivariance(build('mmseg', FAMILIES['mmseg-swin'].cfg), dict(
            group='C4', softness=0.5, rules={'PatchEmbed': [dict(kind='conv', pattern='.')]}),
            log=False)
    # a key of a base class is fine where no more specific key exists
    report = inject_soft_equivariance(build('mmpretrain', FAMILIES['mmpretrain-deit3'].cfg), dict(
        group='C4', softness=0.5, rules={'mmpretrain.VisionTransformer': [
            dict(kind='patch_embed', pattern='^patch_embed')]}), log=False)
    assert report.projected_names() == [PATCH]
