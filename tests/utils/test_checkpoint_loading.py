"""mmsofteq.utils.checkpoint_loading: mmengine checkpoints resume under torch >= 2.6 with
safe (weights-only, scanned) unpickling. Hostile files and the scope of the allow-list and of
the trust opt-in: tests/security.

The checkpoints are written by the real mmengine Runner training a tiny mmseg SegFormer.
"""
import os
import pickle

import numpy as np
import pytest
import torch
from fixtures import make_tiny_voc, tiny_segformer_cfg
from mmengine.hooks import Hook
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner import Runner
from mmengine.runner.checkpoint import CheckpointLoader

import mmsofteq  # noqa: F401  (installs the allow-list, as every user of the package gets)
from mmsofteq.utils import load_checkpoint_file, mmengine_checkpoint_globals

pytestmark = pytest.mark.slow  # real Runner / subprocess runs

SCHEDULE_ITERS = 4


class _CountTrainIters(Hook):
    """Counts the training iterations a runner actually executes."""

    def __init__(self):
        self.count = 0

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.count += 1


@pytest.fixture
def keep_global_torch_state():
    """Runner(deterministic=True) switches torch to deterministic algorithms process-wide."""
    deterministic = torch.are_deterministic_algorithms_enabled()
    yield
    torch.use_deterministic_algorithms(deterministic)


def _runner(data_root, work_dir, max_iters, resume=False):
    cfg = tiny_segformer_cfg(data_root, work_dir, num_classes=4, max_iters=max_iters,
                             checkpoint_interval=2)
    cfg.param_scheduler[0]['end'] = SCHEDULE_ITERS  # same lr schedule for every run
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None  # training only: faster
    cfg.resume = resume
    cfg.experiment_name = f'{os.path.basename(work_dir)}_{max_iters}_{resume}'
    runner = Runner.from_cfg(cfg)
    counter = _CountTrainIters()
    runner.register_hook(counter)
    runner.train()
    return runner, counter.count


def test_resume_continues_like_an_uninterrupted_run(tmp_path, keep_global_torch_state):
    data_root = make_tiny_voc(tmp_path / 'voc', num_images=8, size=32, num_classes=4)
    straight, straight_iters = _runner(data_root, str(tmp_path / 'straight'), SCHEDULE_ITERS)

    work_dir = str(tmp_path / 'interrupted')
    _, first_iters = _runner(data_root, work_dir, 2)
    checkpoint = os.path.join(work_dir, 'iter_2.pth')
    saved_state = load_checkpoint_file(checkpoint, 'cpu')['state_dict']
    resumed, resumed_iters = _runner(data_root, work_dir, SCHEDULE_ITERS, resume=True)

    assert (straight_iters, first_iters, resumed_iters) == (4, 2, 2)
    assert resumed.iter == straight.iter == 4
    # The message hub was restored too: 2 loss values from the checkpoint + 2 new ones.
    assert len(resumed.message_hub.get_scalar('train/loss').data[0]) == 4

    straight_state = straight.model.state_dict()
    resumed_state = resumed.model.state_dict()
    assert straight_state.keys() == resumed_state.keys() == saved_state.keys()
    for name, value in straight_state.items():
        assert torch.equal(value, resumed_state[name]), name
    trained = [name for name, value in saved_state.items()
               if value.is_floating_point() and not torch.equal(value, resumed_state[name])]
    assert len(trained) > len(saved_state) // 2, 'the resumed run did not train'
    straight_optim = straight.optim_wrapper.state_dict()['state']
    resumed_optim = resumed.optim_wrapper.state_dict()['state']
    assert [int(s['step']) for s in resumed_optim.values()] == \
        [int(s['step']) for s in straight_optim.values()] == [4] * len(straight_optim)


def test_allow_list_covers_real_checkpoints_and_is_what_makes_them_load(
        tmp_path, keep_global_torch_state):
    data_root = make_tiny_voc(tmp_path / 'voc', num_images=4, size=32, num_classes=3)
    cfg = tiny_segformer_cfg(data_root, tmp_path / 'work', num_classes=3, max_iters=2,
                             val_interval=1, checkpoint_interval=1)
    cfg.default_hooks.checkpoint.save_best = 'mIoU'  # best_score (a numpy scalar) in the hub
    cfg.experiment_name = 'allow_list_coverage'
    Runner.from_cfg(cfg).train()
    checkpoints = sorted(p for p in os.listdir(tmp_path / 'work') if p.endswith('.pth'))
    assert 'iter_2.pth' in checkpoints and any(p.startswith('best_mIoU') for p in checkpoints)

    allowed = set(mmengine_checkpoint_globals())
    for name in checkpoints:
        path = str(tmp_path / 'work' / name)
        unsafe = set(torch.serialization.get_unsafe_globals_in_checkpoint(path))
        assert unsafe and unsafe <= allowed, (name, unsafe - allowed)
        with pytest.raises(pickle.UnpicklingError):  # torch >= 2.6 alone refuses the file
            torch.load(path, map_location='cpu')
        loaded = CheckpointLoader.load_checkpoint(path, map_location='cpu')
        history = loaded['message_hub']['log_scalars']['train/loss']
        assert isinstance(history, HistoryBuffer) and np.isfinite(history.mean())
        assert isinstance(loaded['message_hub']['runtime_info']['best_score'], np.floating)
