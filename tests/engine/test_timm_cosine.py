"""``mmsofteq.TimmCosineLR`` against the learning rates the authors' ImageNet runs had per epoch
(timm's CosineLRScheduler, lr 1e-5, warm-up 4 epochs from 1e-6 inside 15, cosine to 1e-6):
1.0, 3.25, 5.5, 7.75, 8.51 (peak), ..., 1.10 x 1e-6, mean 4.39e-6."""
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import PARAM_SCHEDULERS

import mmsofteq  # noqa: F401  (registers the scheduler)


def _epoch_lrs(**kwargs):
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-5)
    wrapper = OptimWrapper(optimizer)
    scheduler = PARAM_SCHEDULERS.build(dict(type='mmsofteq.TimmCosineLR', begin=0, end=15,
                                            **kwargs), default_args=dict(optimizer=wrapper))
    lrs = []
    for _ in range(15):
        lrs.append(optimizer.param_groups[0]['lr'])
        scheduler.step()
    return lrs


def test_the_authors_per_epoch_learning_rates():
    lrs = [lr * 1e6 for lr in _epoch_lrs(warmup_epochs=4, warmup_factor=0.1, min_factor=0.1)]
    assert lrs[:4] == pytest.approx([1.0, 3.25, 5.5, 7.75], abs=1e-9)
    assert max(lrs) == pytest.approx(8.51, abs=0.005) and lrs.index(max(lrs)) == 4
    assert lrs[-1] == pytest.approx(1.10, abs=0.005)
    assert sum(lrs) / len(lrs) == pytest.approx(4.39, abs=0.005)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match='warmup_factor must be in'):
        _epoch_lrs(warmup_factor=2.0)
