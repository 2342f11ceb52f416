"""mmsofteq.utils.checkpoint_loading: mmengine checkpoints resume under torch >= 2.6 with
safe (weights-only) unpickling, unsafe pickles stay refused, and the trust opt-in is scoped.

The checkpoints are written by the real mmengine Runner training a tiny mmseg SegFormer.
"""
import fractions
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
from mmsofteq.utils import (TRUST_ENV_VAR, mmengine_safe_globals, trust_checkpoints_enabled,
                            trusted_checkpoint_loading)

pytestmark = pytest.mark.slow  # real Runner / subprocess runs

SCHEDULE_ITERS = 4


class _MakeDirOnLoad:
    """Pickles as ``os.mkdir(path)``: loading it with full pickle would create ``path``."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return os.mkdir, (self.path, )


class _GetAttr:
    """Pickles as ``getattr(owner, name)`` (how HistoryBuffer's methods are pickled)."""

    def __init__(self, owner, name):
        self.owner, self.name = owner, name

    def __reduce__(self):
        return getattr, (self.owner, self.name)


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
    saved_state = torch.load(checkpoint, map_location='cpu')['state_dict']  # weights_only
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

    for name in checkpoints:
        path = str(tmp_path / 'work' / name)
        assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == [], name
        loaded = torch.load(path, map_location='cpu')
        history = loaded['message_hub']['log_scalars']['train/loss']
        assert isinstance(history, HistoryBuffer) and np.isfinite(history.mean())
        assert isinstance(loaded['message_hub']['runtime_info']['best_score'], np.floating)

    # Without the allow-list, torch >= 2.6 refuses the same file: the bug this module fixes.
    assert tuple(int(v) for v in torch.__version__.split('.')[:2]) >= (2, 6)
    saved = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    try:
        with pytest.raises(pickle.UnpicklingError):
            torch.load(str(tmp_path / 'work' / 'iter_2.pth'), map_location='cpu')
    finally:
        torch.serialization.add_safe_globals(saved)


def test_unknown_global_is_refused_and_never_executed(tmp_path):
    marker = tmp_path / 'created-by-unpickling'
    path = str(tmp_path / 'malicious.pth')
    torch.save({'state_dict': {'w': torch.ones(2)}, 'meta': _MakeDirOnLoad(marker)}, path)

    assert 'posix.mkdir' in torch.serialization.get_unsafe_globals_in_checkpoint(path)
    with pytest.raises(pickle.UnpicklingError, match='mkdir'):
        torch.load(path)
    with pytest.raises(pickle.UnpicklingError, match=TRUST_ENV_VAR):
        CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert not marker.exists()


def test_getattr_is_limited_to_history_buffer_methods(tmp_path):
    allowed = str(tmp_path / 'allowed.pth')
    torch.save({'method': _GetAttr(HistoryBuffer, 'mean')}, allowed)
    assert torch.load(allowed)['method'] is HistoryBuffer.mean

    for owner, name in ((HistoryBuffer, '__init__'), (HistoryBuffer, '__class__'),
                        (np.ndarray, 'tofile'), (torch.Tensor, 'storage')):
        path = str(tmp_path / f'{owner.__name__}-{name}.pth')
        torch.save({'method': _GetAttr(owner, name)}, path)
        with pytest.raises(pickle.UnpicklingError, match='not allowed'):
            torch.load(path)


def test_trust_opt_in_is_explicit_and_scoped_to_mmengine_loads(tmp_path, monkeypatch):
    path = str(tmp_path / 'fraction.pth')
    torch.save({'meta': fractions.Fraction(1, 3)}, path)
    monkeypatch.delenv(TRUST_ENV_VAR, raising=False)
    assert not trust_checkpoints_enabled()
    with pytest.raises(pickle.UnpicklingError):
        CheckpointLoader.load_checkpoint(path, map_location='cpu')

    monkeypatch.setenv(TRUST_ENV_VAR, '1')
    assert trust_checkpoints_enabled()
    assert CheckpointLoader.load_checkpoint(path, map_location='cpu')['meta'] == \
        fractions.Fraction(1, 3)
    with pytest.raises(pickle.UnpicklingError):  # plain torch.load stays safe
        torch.load(path)
    assert 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' not in os.environ

    monkeypatch.setenv('TORCH_FORCE_WEIGHTS_ONLY_LOAD', '1')
    with pytest.raises(RuntimeError, match='TORCH_FORCE_WEIGHTS_ONLY_LOAD'):
        CheckpointLoader.load_checkpoint(path, map_location='cpu')
    monkeypatch.delenv('TORCH_FORCE_WEIGHTS_ONLY_LOAD')

    monkeypatch.setenv(TRUST_ENV_VAR, '0')
    with trusted_checkpoint_loading():
        assert CheckpointLoader.load_checkpoint(path, map_location='cpu')['meta'] == \
            fractions.Fraction(1, 3)
    assert not trust_checkpoints_enabled()
    with pytest.raises(pickle.UnpicklingError):
        CheckpointLoader.load_checkpoint(path, map_location='cpu')


def test_allow_list_names_every_global_it_claims():
    names = set()
    for entry in mmengine_safe_globals():
        if isinstance(entry, tuple):
            names.add(entry[1])
        else:
            names.add(f'{entry.__module__}.{entry.__qualname__}')
    for expected in ('mmengine.logging.history_buffer.HistoryBuffer', 'numpy.ndarray',
                     'numpy.dtype', 'numpy._core.multiarray._reconstruct',
                     'numpy.core.multiarray._reconstruct', 'numpy._core.multiarray.scalar',
                     'builtins.getattr', 'numpy.dtypes.Float64DType'):
        assert expected in names
    allowed_objects = [entry[0] if isinstance(entry, tuple) else entry
                       for entry in mmengine_safe_globals()]
    assert not any(entry is getattr for entry in allowed_objects)  # only the restricted one
