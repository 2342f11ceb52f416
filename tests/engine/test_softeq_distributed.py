"""2-process CPU training (gloo) through ``tools/dist_train.sh`` / ``tools/train.py --launcher
pytorch``: after training the parameters are bit-identical on both ranks.

Each rank gets different images (DistributedSampler), so identical parameters mean DDP
all-reduced every gradient, including those of the projected θ. With the hook the projections
are injected after the model was wrapped in DDP: the projected θ must stay the Parameter DDP's
reducer registered (it does: the re-parameterisation never replaces a Parameter).
"""
import os
import os.path as osp
import socket
import subprocess

import pytest
import torch
from fixtures.tiny_models import softeq_segformer_cfg
from fixtures.tools import REPO

pytestmark = pytest.mark.slow  # real Runner / subprocess runs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize('mode', ['wrapper', 'hook'])
def test_two_rank_training_keeps_ranks_bit_identical(tmp_path, mode):
    cfg = softeq_segformer_cfg(tmp_path, mode, dict(group='C8', softness=0.5), max_iters=3,
                               num_images=8)  # SyncBN, as in mmseg configs
    cfg.custom_hooks = cfg.get('custom_hooks', []) + [dict(type='RankParameterDumpHook')]
    cfg.custom_imports = dict(imports=['mmsofteq', 'softeq_rank_dump'],
                              allow_failed_imports=False)
    config = str(tmp_path / 'dist.py')
    cfg.dump(config)
    env = dict(os.environ, PORT=str(free_port()), PYTHONPATH=osp.dirname(__file__),
               OMP_NUM_THREADS='1')
    result = subprocess.run(['bash', osp.join(REPO, 'tools', 'dist_train.sh'), config, '2'],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=480)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    work = tmp_path / 'work'
    ranks = [torch.load(work / f'params_rank{r}.pth') for r in (0, 1)]
    initial = torch.load(work / 'params_init_rank0.pth')['params']
    assert ranks[0]['wrapped'] == ranks[1]['wrapped'] == 'MMDistributedDataParallel'
    params = [rank['params'] for rank in ranks]
    assert list(params[0]) == list(params[1]) == list(initial)
    for name in params[0]:
        assert torch.equal(params[0][name], params[1][name]), name
    trained = [name for name in initial if not torch.equal(initial[name], params[0][name])]
    assert 'backbone.layers.0.0.projection.weight' in trained
    assert 'backbone.layers.0.1.0.ffn.layers.1.weight' in trained
    assert len(trained) == len(initial)
    log = result.stdout + result.stderr
    assert 'mmsofteq projection report for mmseg.EncoderDecoder (group C8' in log
