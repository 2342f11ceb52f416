"""One rank of the sharded-training equality test (``test_softeq_sharded.py``).

Builds the tiny real SegFormer with soft C4 equivariance, wraps it with one strategy (DDP,
FSDP1 flat / original parameters, FSDP2 ``fully_shard``), runs one forward/backward on this
rank's batch and one SGD step, and writes (rank 0) the mean loss, the full parameters after the
step (``get_model_state_dict``, the same gathered form for every strategy) and the logits of a
fixed image and of its quarter turn.
"""
import os

import torch
import torch.distributed as dist


def _wrap(model, strategy):
    if strategy == 'ddp':
        return torch.nn.parallel.DistributedDataParallel(model)
    if strategy in ('fsdp1_flat', 'fsdp1_orig'):
        from torch.distributed.fsdp import FullyShardedDataParallel
        return FullyShardedDataParallel(model, use_orig_params=strategy == 'fsdp1_orig',
                                        device_id=torch.device('cpu'))
    if strategy == 'fsdp2':
        from torch.distributed.fsdp import fully_shard
        for patch_embed, blocks, _ in model.backbone.layers:  # MiT stages: embed, blocks, norm
            fully_shard(patch_embed)
            for block in blocks:
                fully_shard(block)
        fully_shard(model)
        return model
    raise ValueError(strategy)


def run(rank: int, port: int, strategy: str, softeq: dict, out: str) -> None:
    from fixtures.tiny_models import seg_samples, tiny_segmentor
    from mmengine.registry import MODELS, init_default_scope
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    from mmsofteq.nn import inject_soft_equivariance

    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group('gloo', rank=rank, world_size=2)
    try:
        init_default_scope('mmseg')
        torch.manual_seed(0)
        model = MODELS.build(tiny_segmentor())
        model.init_weights()
        inject_soft_equivariance(model, softeq, log=False)
        wrapped = _wrap(model, strategy)
        generator = torch.Generator().manual_seed(100 + rank)
        images = torch.randn(2, 3, 32, 32, generator=generator)
        samples = seg_samples(2, 32, 32, labels=True, seed=rank)
        losses = wrapped(images, samples, mode='loss')
        loss = sum(value for key, value in losses.items() if 'loss' in key)
        loss.backward()
        with torch.no_grad():
            for parameter in wrapped.parameters():
                if parameter.grad is not None:
                    parameter -= parameter.grad      # SGD, lr 1
        mean_loss = loss.detach().clone()
        dist.all_reduce(mean_loss)
        state = get_model_state_dict(wrapped, options=StateDictOptions(full_state_dict=True))
        wrapped.eval()
        probe = torch.randn(1, 3, 33, 33, generator=torch.Generator().manual_seed(7))
        with torch.no_grad():
            logits = wrapped(torch.cat([probe, torch.rot90(probe, 1, (2, 3))]), mode='tensor')
        if rank == 0:
            torch.save(dict(loss=float(mean_loss) / 2, logits=logits,
                            state={key: value.detach().clone() for key, value in state.items()}),
                       out)
    finally:
        dist.destroy_process_group()


def run_with_a_different_projector(rank: int, port: int) -> None:
    """Rank 1 builds a different projector (as another numpy/scipy build could): injection must
    refuse on every rank."""
    from fixtures.tiny_models import tiny_segmentor
    from mmengine.registry import MODELS, init_default_scope

    import mmsofteq.nn.injection as injection

    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    try:
        init_default_scope('mmseg')
        model = MODELS.build(tiny_segmentor())
        if rank == 1:
            original = injection._projector_fingerprint
            injection._projector_fingerprint = lambda matrix: tuple(
                value + 1e-3 for value in original(matrix))
        injection.inject_soft_equivariance(model, dict(group='C4', softness=0.5), log=False)
    finally:
        dist.destroy_process_group()
