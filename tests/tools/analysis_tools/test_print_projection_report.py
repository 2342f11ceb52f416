"""``tools/print_projection_report.py`` on the configs mmseg and mmpretrain ship (offline)."""
import textwrap

import pytest
from fixtures.tools import load_tool

SEGFORMER = """
    _base_ = ['mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py']
    custom_imports = dict(imports=['mmsofteq'], allow_failed_imports=False)
    softeq = dict(group='SO2', softness=0.95, cutoff='hard', method='auto')
    model = dict(type='mmsofteq.SoftEqModel', model=_base_.model, softeq=softeq)
"""
RESNET = """
    _base_ = ['mmpretrain::resnet/resnet18_8xb32_in1k.py']
    custom_imports = dict(imports=['mmsofteq'], allow_failed_imports=False)
    softeq = dict(group='C8', softness=dict(patch_embed=0.9, conv=0.95))
    custom_hooks = [dict(type='mmsofteq.SoftEqHook', softeq=softeq)]
"""


def report_of(tmp_path, capsys, text, *args):
    path = tmp_path / 'config.py'
    path.write_text(textwrap.dedent(text))
    load_tool('analysis_tools/print_projection_report.py').main([str(path), *args])
    return capsys.readouterr().out


def test_segformer_b0_config_with_the_wrapper(tmp_path, capsys):
    out = report_of(tmp_path, capsys, SEGFORMER, '--verbose')
    rows = [line.split() for line in out.splitlines() if line.startswith('backbone.')]
    table = {row[0]: row for row in rows if len(row) > 4}
    assert table['backbone.layers.0.0.projection.weight'][1:6] == [
        'patch_embed', '32x3x7x7', 'SO2', '0.95', '45/49']
    assert table['backbone.layers.0.1.0.attn.sr.weight'][2] == '32x32x8x8'
    assert len(table) == 18
    assert 'projected: 18 tensor(s); identity (softness 1, not projected): 0; left untouched: 22' \
        in out
    assert 'untouched x6: outside the ruled backbone(s); no softeq.include pattern: ' \
        'decode_head.conv_seg.weight' in out
    assert out.count('mmsofteq projection report') == 1  # printed, not also logged


def test_resnet18_config_with_the_hook(tmp_path, capsys):
    out = report_of(tmp_path, capsys, RESNET)
    assert 'mmpretrain.ImageClassifier (group C8; ruled backbones: backbone (mmpretrain.ResNet))' \
        in out
    stem = next(line.split() for line in out.splitlines()
                if line.startswith('backbone.conv1.weight'))
    assert stem[1:5] == ['patch_embed', '64x3x7x7', 'C8', '0.9']
    assert 'projected: 17 tensor(s)' in out
    assert 'untouched x3: kernel 1x1 < min_kernel_size=2' in out


def test_config_without_softeq_is_an_error(tmp_path, capsys):
    with pytest.raises(ValueError, match='the config has no soft equivariance'):
        report_of(tmp_path, capsys, "_base_ = ['mmpretrain::resnet/resnet18_8xb32_in1k.py']")
