"""``mmsofteq.FiniteCheckHook`` through the real Runner: a loss that turns NaN stops training
at that iteration, NaN weights stop a run before it starts (checkpoints: tests/security), the
off-switch is what the docs say, and exported plain configs drop the hook."""
import argparse

import pytest
import torch
from fixtures import make_tiny_voc, tiny_segformer_cfg
from mmengine.hooks import Hook
from mmengine.runner import Runner

import mmsofteq  # noqa: F401  (registers the hook)
from mmsofteq.apis import plain_config, runner_config
from mmsofteq.engine.hooks import FiniteCheckHook

pytestmark = pytest.mark.slow  # real Runner runs


class _PoisonAtIteration(Hook):
    """Fills the classifier weight with NaN before iteration ``at`` (1-based)."""

    def __init__(self, at):
        self.at, self.ran = at, []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.ran.append(runner.iter + 1)
        if runner.iter + 1 == self.at:
            with torch.no_grad():
                runner.model.decode_head.conv_seg.weight.fill_(float('nan'))


def _cfg(tmp_path, **finite_check):
    data_root = make_tiny_voc(tmp_path / 'voc', num_images=4, size=32, num_classes=4)
    cfg = tiny_segformer_cfg(data_root, tmp_path / 'work', num_classes=4, max_iters=4,
                             norm_type='BN')
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.default_hooks.finite_check = dict(type='mmsofteq.FiniteCheckHook', **finite_check)
    return cfg


def test_a_nan_loss_stops_training_at_its_iteration(tmp_path):
    runner = Runner.from_cfg(_cfg(tmp_path))
    poison = _PoisonAtIteration(at=3)
    runner.register_hook(poison)
    with pytest.raises(FloatingPointError, match=r'the training loss is nan at iteration 3 '
                                                 r'\(epoch 1\); decode.loss_ce=nan.*'
                                                 r'default_hooks.finite_check.enabled=False'):
        runner.train()
    assert poison.ran == [1, 2, 3]


def test_the_documented_off_switch_lets_the_run_continue(tmp_path):
    runner = Runner.from_cfg(_cfg(tmp_path, enabled=False))
    poison = _PoisonAtIteration(at=3)
    runner.register_hook(poison)
    runner.train()
    assert poison.ran == [1, 2, 3, 4]


def test_none_switches_the_hook_off_in_mmsofteqs_tools(tmp_path):
    config = str(tmp_path / 'cfg.py')
    _cfg(tmp_path).dump(config)
    args = argparse.Namespace(config=config, cfg_options={'default_hooks.finite_check': None},
                              launcher='none', work_dir=str(tmp_path / 'work'))
    cfg = runner_config(args)
    assert 'finite_check' not in cfg.default_hooks
    runner = Runner.from_cfg(cfg)
    assert not any(isinstance(hook, FiniteCheckHook) for hook in runner.hooks)


class _PoisonBeforeTraining(Hook):
    """After weight init and loading (before_train runs after both), one Inf weight."""

    def before_train(self, runner):
        with torch.no_grad():
            runner.model.backbone.layers[0][0].projection.weight[0, 0, 0, 0] = float('inf')


def test_non_finite_initial_weights_stop_the_run_before_training(tmp_path):
    runner = Runner.from_cfg(_cfg(tmp_path))
    runner.register_hook(_PoisonBeforeTraining())  # NORMAL priority: before the VERY_LOW check
    with pytest.raises(FloatingPointError, match=r'non-finite weights before training: '
                                                 r'backbone.layers.0.0.projection.weight has '
                                                 r'0 NaN and 1 Inf'):
        runner.train()


def test_bad_interval_is_rejected_and_plain_configs_drop_the_hook(tmp_path):
    with pytest.raises(ValueError, match='interval must be an int >= 1'):
        FiniteCheckHook(interval=0)
    cfg = _cfg(tmp_path)
    assert 'finite_check' not in plain_config(cfg).default_hooks
    assert 'timer' in plain_config(cfg).default_hooks
