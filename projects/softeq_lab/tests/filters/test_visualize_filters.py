"""softeq_lab.filters.visualize_filters: projected kernels per softness, as arrays and a
PNG."""
import os.path as osp

import numpy as np
import pytest
import torch
from softeq_lab.filters import visualize_filters
from PIL import Image


def test_c4_softness_0_kernels_are_rot90_invariant_and_softness_1_is_the_input(tmp_path):
    tool = visualize_filters
    out = tmp_path / 'c4.png'
    png, rows = tool.main(['--group', 'C4', '--softness', '0', '0.5', '1', '--source',
                           'random', '--size', '5', '--num-kernels', '2', '--seed', '3',
                           '--out', str(out)])
    assert png == str(out)
    with Image.open(out) as image:
        assert image.format == 'PNG'
    originals = [np.random.default_rng(seed).standard_normal((5, 5)) for seed in (3, 4)]
    assert len(rows) == 2 and [item.softness for item in rows[0]] == [0.0, 0.5, 1.0]
    for original, (strict, middle, identity) in zip(originals, rows):
        assert strict.kernel.shape == (5, 5)
        np.testing.assert_allclose(np.rot90(strict.kernel), strict.kernel, atol=1e-12)
        assert np.abs(strict.kernel).max() > 1e-3  # not the zero kernel
        # the invariant part of K is its C4 orbit average
        orbit_mean = sum(np.rot90(original, turns) for turns in range(4)) / 4
        np.testing.assert_allclose(strict.kernel, orbit_mean, atol=1e-10)
        assert not np.allclose(np.rot90(middle.kernel), middle.kernel, atol=1e-3)
        np.testing.assert_allclose(identity.kernel, original, atol=1e-12)
        assert strict.kept < middle.kept < identity.kept == identity.total == 25


def test_default_digit_kernels_so2(tmp_path):
    tool = visualize_filters
    png, rows = tool.main(['--out', str(tmp_path / 'so2.png')])
    assert osp.isfile(png)
    assert len(rows) == 3 and len(rows[0]) == len(tool.DEFAULT_SOFTNESS)
    strict = rows[0][0].kernel
    assert strict.shape == (9, 9)
    # softness 0 of SO(2) keeps only (discretised) radial patterns: invariant under rot90
    np.testing.assert_allclose(np.rot90(strict), strict, atol=1e-9)


def test_kernels_from_a_checkpoint_layer(tmp_path):
    weight = torch.randn(4, 2, 3, 3, generator=torch.Generator().manual_seed(0))
    checkpoint = tmp_path / 'ckpt.pth'
    torch.save({'meta': {}, 'state_dict': {'backbone.conv.weight': weight,
                                           'backbone.conv.bias': torch.zeros(4)}}, checkpoint)
    tool = visualize_filters
    _, rows = tool.main(['--checkpoint', str(checkpoint), '--layer', 'backbone.conv.weight',
                         '--slices', '1,0', '3,1', '--group', 'C4', '--softness', '0', '1',
                         '--out', str(tmp_path / 'ckpt.png')])
    for (out_index, in_index), (strict, identity) in zip([(1, 0), (3, 1)], rows):
        np.testing.assert_allclose(identity.kernel, weight[out_index, in_index].double().numpy(),
                                   atol=1e-12)
        np.testing.assert_allclose(np.rot90(strict.kernel), strict.kernel, atol=1e-12)
    with pytest.raises(SystemExit, match='not in the checkpoint'):
        tool.main(['--checkpoint', str(checkpoint), '--layer', 'backbone.missing.weight',
                   '--out', str(tmp_path / 'x.png')])
    with pytest.raises(SystemExit, match='outside'):
        tool.main(['--checkpoint', str(checkpoint), '--layer', 'backbone.conv.weight',
                   '--slices', '4,0', '--out', str(tmp_path / 'x.png')])


def test_group_defaults_to_the_configs_softeq(tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text("softeq = dict(group='C4', softness=0.5)\n")
    tool = visualize_filters
    _, rows = tool.main(['--config', str(config), '--softness', '0', '--source', 'random',
                         '--size', '4', '--num-kernels', '1', '--out', str(tmp_path / 'c.png')])
    # C4 at softness 0 on a 4x4 grid keeps 4 directions (16 pixels in orbits of 4)
    assert rows[0][0].kept == 4


def test_generator_and_rounding_come_from_the_config_too(tmp_path):
    """A config with the paper's bilinear C36 and index rounding draws that projector, not
    the default spectral / frequency one; a command-line option wins over the config."""
    from mmsofteq.projection import invariant_projector

    config = tmp_path / 'cfg.py'
    config.write_text("softeq = dict(group='C36', generator='bilinear', rounding='index', "
                      "softness=0.9)\n")
    argv = ['--config', str(config), '--softness', '0.9', '--source', 'random', '--size', '7',
            '--num-kernels', '1', '--out', str(tmp_path / 'b.png')]
    tool = visualize_filters
    _, rows = tool.main(argv)
    drawn = rows[0][0]
    kernel = tool.sample_kernels('random', 7, 1, 0)[0]
    for generator, rounding in (('bilinear', 'index'), ('spectral', 'frequency')):
        projector = invariant_projector('C36', 7, softness=0.9, generator=generator,
                                        rounding=rounding)
        expected = (np.asarray(kernel, np.float64).reshape(-1) @ projector.matrix).reshape(7, 7)
        same = drawn.kept == projector.certificate.kept and np.allclose(drawn.kernel, expected)
        assert same == (generator == 'bilinear'), generator
    _, rows = tool.main(argv + ['--generator', 'spectral', '--rounding', 'frequency'])
    spectral = invariant_projector('C36', 7, softness=0.9)
    assert rows[0][0].kept == spectral.certificate.kept


@pytest.mark.parametrize('argv, message', [
    (['--softness', '1.5'], 'must lie in [0, 1]'),
    (['--checkpoint', 'x.pth'], '--checkpoint needs --layer'),
    (['--slices', '1'], 'out,in pairs'),
    (['--size', '1'], '--size must be >= 2'),
])
def test_bad_arguments_are_refused(argv, message, capsys):
    tool = visualize_filters
    with pytest.raises(SystemExit) as exit_info:
        tool.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
