"""Sharded training keeps ``W = P·θ``: 2 gloo ranks on CPU, the tiny real SegFormer with soft
C4 equivariance, one step under DDP, FSDP1 (flat and original parameters) and FSDP2
(``fully_shard``): the same loss, the same updated parameters and the same logits as DDP, and
a model whose projection would be bypassed fails loudly."""
import socket

import pytest
import torch
import torch.multiprocessing as mp

pytestmark = pytest.mark.slow  # spawns 2 processes per strategy

SOFTEQ = dict(group='C4', softness=0.5, min_kernel_size=2)
STRATEGIES = ('ddp', 'fsdp1_flat', 'fsdp1_orig', 'fsdp2')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='module')
def results(tmp_path_factory):
    from sharded_worker import run
    folder = tmp_path_factory.mktemp('sharded')
    out = {}
    for strategy in STRATEGIES:
        path = str(folder / f'{strategy}.pth')
        mp.spawn(run, args=(free_port(), strategy, SOFTEQ, path), nprocs=2, join=True)
        out[strategy] = torch.load(path)
    return out


@pytest.mark.parametrize('strategy', STRATEGIES[1:])
def test_fsdp_trains_the_projected_model_exactly_as_ddp(results, strategy):
    """Tolerances: float32 with another reduction order (FSDP reduce-scatters, DDP
    all-reduces): loss 1e-6 relative; parameters after the step (SGD with lr 1: θ − ∇θ, so
    their difference is the difference of the θ gradients) 1e-6 absolute."""
    ddp, sharded = results['ddp'], results[strategy]
    assert sharded['loss'] == pytest.approx(ddp['loss'], rel=1e-6)
    assert list(sharded['state']) == list(ddp['state'])      # the base keys, θ under its name
    worst = max(float((sharded['state'][key] - ddp['state'][key]).abs().max())
                for key in ddp['state'])
    assert worst < 1e-6, worst
    assert torch.allclose(sharded['logits'], ddp['logits'], atol=1e-5)


def test_the_updated_theta_still_gives_a_projected_model(results):
    """The step moved θ; the logits each strategy computed come from P·θ: equal to a fresh
    single-process model loading DDP's gathered state dict (the same keys)."""
    from fixtures.tiny_models import tiny_segmentor
    from mmengine.registry import MODELS, init_default_scope

    from mmsofteq.nn import inject_soft_equivariance
    init_default_scope('mmseg')
    model = MODELS.build(tiny_segmentor())
    inject_soft_equivariance(model, SOFTEQ, log=False)
    model.load_state_dict(results['ddp']['state'])
    model.eval()
    probe = torch.randn(1, 3, 33, 33, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        logits = model(torch.cat([probe, torch.rot90(probe, 1, (2, 3))]), mode='tensor')
    for strategy in STRATEGIES:
        assert torch.allclose(results[strategy]['logits'], logits, atol=1e-5), strategy


def test_ranks_with_different_projectors_refuse_to_train():
    from sharded_worker import run_with_a_different_projector
    with pytest.raises(Exception, match="projectors built on rank 1 differ from rank 0's"):
        mp.spawn(run_with_a_different_projector, args=(free_port(), ), nprocs=2, join=True)
