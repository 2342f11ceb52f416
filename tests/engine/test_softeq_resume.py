"""``tools/train.py --resume`` continues exactly: 2 + 2 iterations give the weights of 4 straight.

The interrupted run is simulated by a work dir holding only the straight run's ``iter_2.pth``
(and ``last_checkpoint``), which is what ``--resume`` looks for.
"""
import glob
import shutil

import pytest
import torch
from fixtures.tiny_models import softeq_segformer_cfg
from fixtures.tools import load_tool

pytestmark = pytest.mark.slow  # real Runner / subprocess runs

SOFTEQ = dict(group='SO2', softness=0.7)


def weights(path):
    checkpoint = torch.load(path, map_location='cpu', weights_only=False)
    return checkpoint['meta']['iter'], checkpoint['state_dict']


@pytest.mark.parametrize('mode', ['wrapper', 'hook'])
def test_two_plus_two_iterations_equal_four(tmp_path, mode):
    train = load_tool('train.py')
    cfg = softeq_segformer_cfg(tmp_path, mode, SOFTEQ, max_iters=4, checkpoint_interval=2,
                               val_interval=100, norm_type='BN')
    config = str(tmp_path / 'softeq.py')
    cfg.dump(config)
    straight, resumed = tmp_path / 'straight', tmp_path / 'resumed'
    train.main([config, '--work-dir', str(straight)])

    resumed.mkdir()
    shutil.copy(straight / 'iter_2.pth', resumed / 'iter_2.pth')
    (resumed / 'last_checkpoint').write_text(str(resumed / 'iter_2.pth'))
    train.main([config, '--work-dir', str(resumed), '--resume'])

    # A run that ignored --resume would also end at the same weights (runs are deterministic).
    log = ''.join(open(path).read() for path in glob.glob(f'{resumed}/*/*.log'))
    assert 'resumed epoch: 0, iter: 2' in log
    assert 'Iter(train) [3/4]' in log and 'Iter(train) [1/4]' not in log

    iteration, four = weights(straight / 'iter_4.pth')
    _, two = weights(straight / 'iter_2.pth')
    resumed_iteration, two_plus_two = weights(resumed / 'iter_4.pth')
    assert iteration == resumed_iteration == 4
    assert list(two_plus_two) == list(four)
    for key in four:
        assert torch.equal(two_plus_two[key], four[key]), key
    changed = [key for key in four if not torch.equal(four[key], two[key])]
    assert 'backbone.layers.0.0.projection.weight' in changed and len(changed) > 50
