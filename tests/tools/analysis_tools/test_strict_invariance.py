"""tools/analysis_tools/strict_invariance.py: a strictly C4-projected CIFAR ResNet-50 is exactly
rot90-invariant when every stride-2 layer sees an odd input (33 px), not at 32 px."""
import pytest
from fixtures.tools import REPO, load_tool

pytestmark = pytest.mark.slow  # builds full-size models


def test_resnet_invariance_depends_on_the_parity_of_the_input_size(capsys):
    rows = load_tool('analysis_tools/strict_invariance.py').main(
        [f'{REPO}/configs/classification/softeq_resnet50_8xb16-10e_cifar10.py', '--sizes', '32',
         '33'])
    errors = {size: float(error) for size, error, _ in rows}
    grids = {size: grid for size, _, grid in rows}
    assert errors[33] < 1e-5 and grids[33] == 'none (centred)'
    assert errors[32] > 1e-2 and grids[32].startswith('6, first backbone.layer2.0.conv2')
    assert 'strict C4 (softness 0)' in capsys.readouterr().out


def test_grid_only_names_the_off_centre_layers_of_any_config(capsys):
    rows = load_tool('analysis_tools/strict_invariance.py').main(
        [f'{REPO}/configs/demo/segformer_base_demo.py', '--sizes', '32', '33', '--grid-only'])
    grids = dict(rows)
    assert 'backbone.layers.0.0.projection' in grids[32]
    assert grids[33].startswith('3, first backbone.layers.0.1.0.attn.sr')
