"""softeq_lab.paper.strict_invariance: a strictly C4-projected CIFAR ResNet-50 is exactly
rot90-invariant when every stride-2 layer sees an odd input (33 px), not at 32 px."""
from importlib import import_module
import pytest
from fixtures.tools import REPO

pytestmark = pytest.mark.slow  # builds full-size models


def test_resnet_invariance_depends_on_the_parity_of_the_input_size(capsys):
    rows = import_module('softeq_lab.paper.strict_invariance').main(
        [f'{REPO}/configs/classification/softeq_resnet50_8xb16-10e_cifar10.py', '--sizes', '32',
         '33'])
    errors = {size: float(error) for size, error, _ in rows}
    grids = {size: grid for size, _, grid in rows}
    assert errors[33] < 1e-5 and grids[33] == 'none (centred)'
    assert errors[32] > 1e-2 and grids[32].startswith('6, first backbone.layer2.0.conv2')
    assert 'strict C4 (softness 0)' in capsys.readouterr().out


def test_grid_only_names_the_off_centre_layers_of_any_config(capsys):
    rows = import_module('softeq_lab.paper.strict_invariance').main(
        [f'{REPO}/configs/demo/segformer_base_demo.py', '--sizes', '32', '33', '--grid-only'])
    grids = dict(rows)
    assert 'backbone.layers.0.0.projection' in grids[32]
    assert grids[33].startswith('3, first backbone.layers.0.1.0.attn.sr')


def test_per_stage_shows_the_centred_stage_exact_and_the_rest_not():
    """The demo SegFormer, every kernel strictly C4: at 29 px stage 1's grid is centred (its
    features commute with rot90 exactly), the later stride-2 embeddings are not."""
    rows = import_module('softeq_lab.paper.strict_invariance').main(
        [f'{REPO}/configs/demo/segformer_softeq_demo.py', '--sizes', '29', '32', '--per-stage',
         '--cfg-options', 'softeq.min_kernel_size=2'])
    stages = {size: [float(v) for v in per_stage.split(', ')] for size, _, per_stage, _ in rows}
    assert stages[29][0] < 1e-5 and min(stages[29][1:]) > 0.1
    assert stages[32][0] > 0.1
