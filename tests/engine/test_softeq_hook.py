"""``mmsofteq.SoftEqHook`` and the wrapper in the real mmengine Runner: order of injection,
weight init, ``load_from``; repeated ``before_run``."""
import glob

import pytest
import torch
from fixtures.tiny_models import softeq_segformer_cfg
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import Runner, save_checkpoint

from mmsofteq.engine.hooks import SoftEqHook
from mmsofteq.nn import BUFFER_PREFIX, is_swapped, projected_parameters

pytestmark = pytest.mark.slow  # real Runner / subprocess runs

SOFTEQ = dict(group='C8', softness=dict(patch_embed=0.4, conv=0.6))


def unwrap(runner):
    return runner.model.module if is_model_wrapper(runner.model) else runner.model


def log_text(runner) -> str:
    return ''.join(open(path).read() for path in glob.glob(f'{runner.log_dir}/*.log'))


class WeightProbe(Hook):
    """Records the stem patch-embedding θ after injection, and again after weight init."""

    priority = 'LOWEST'

    def before_run(self, runner):
        conv = unwrap(runner).backbone.layers[0][0].projection
        self.projected_at_before_run = is_swapped(conv)
        self.theta_before_init = conv._parameters['weight'].detach().clone()

    def before_train(self, runner):
        conv = unwrap(runner).backbone.layers[0][0].projection
        self.theta_after_init = conv._parameters['weight'].detach().clone()
        self.effective_after_init = conv.weight.detach().clone()
        self.projector = getattr(conv, BUFFER_PREFIX + 'weight').detach().clone()


def test_hook_injects_before_weight_init_and_training_updates_theta(tmp_path):
    cfg = softeq_segformer_cfg(tmp_path, 'hook', SOFTEQ, max_iters=2, norm_type='BN')
    runner = Runner.from_cfg(cfg)
    probe = WeightProbe()
    runner.register_hook(probe)
    hook = next(h for h in runner.hooks if isinstance(h, SoftEqHook))
    assert hook.report is None and not is_swapped(unwrap(runner).backbone)
    runner.train()

    assert probe.projected_at_before_run
    # MixVisionTransformer.init_weights re-draws every conv through m.weight: it wrote θ.
    assert not torch.equal(probe.theta_after_init, probe.theta_before_init)
    expected = (probe.theta_after_init.flatten(2) @ probe.projector).reshape(
        probe.theta_after_init.shape)
    assert torch.allclose(probe.effective_after_init, expected, atol=1e-6)
    model = unwrap(runner)
    conv = model.backbone.layers[0][0].projection
    assert not torch.equal(conv._parameters['weight'], probe.theta_after_init)  # trained θ
    assert hook.report.num_projected == 11
    text = log_text(runner)
    assert 'mmsofteq projection report for mmseg.EncoderDecoder (group C8' in text
    assert 'backbone.layers.0.0.projection.weight' in text

    report = hook.report
    runner.test()  # before_run again: same config, nothing re-injected
    assert hook.report is report
    assert len(list(projected_parameters(model))) == 11


@pytest.mark.parametrize('mode', ['wrapper', 'hook'])
def test_load_from_fills_theta_with_base_checkpoint_keys(tmp_path, mode):
    base_cfg = softeq_segformer_cfg(tmp_path, 'hook', SOFTEQ, norm_type='BN').model
    init_default_scope('mmseg')
    torch.manual_seed(123)
    base = MODELS.build(base_cfg)
    base.init_weights()
    checkpoint = str(tmp_path / 'base.pth')
    save_checkpoint(dict(meta={}, state_dict=base.state_dict()), checkpoint)

    cfg = softeq_segformer_cfg(tmp_path, mode, SOFTEQ, max_iters=2, norm_type='BN')
    cfg.load_from = checkpoint
    runner = Runner.from_cfg(cfg)
    runner.test()
    model = unwrap(runner)
    for key, value in base.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    projected = list(projected_parameters(model))
    assert len(projected) == 11
    for key, module, name in projected:
        theta = base.state_dict()[key]
        projector = getattr(module, BUFFER_PREFIX + name)
        expected = (theta.flatten(2) @ projector).reshape(theta.shape)
        assert torch.equal(getattr(module, name), expected)
    text = log_text(runner)
    assert 'Load checkpoint from' in text
    assert 'do not match exactly' not in text  # no missing / unexpected keys


def test_inject_refuses_the_ddp_wrapper_itself(tmp_path):
    from mmengine.model import MMDistributedDataParallel

    from mmsofteq.nn import inject_soft_equivariance
    init_default_scope('mmseg')
    model = MODELS.build(softeq_segformer_cfg(tmp_path, 'hook', SOFTEQ, norm_type='BN').model)
    torch.distributed.init_process_group('gloo', init_method=f'file://{tmp_path}/store',
                                         rank=0, world_size=1)
    try:
        wrapped = MMDistributedDataParallel(module=model, device_ids=None)
        with pytest.raises(ValueError, match=r'MMDistributedDataParallel\.module'):
            inject_soft_equivariance(wrapped, SOFTEQ, log=False)
        assert inject_soft_equivariance(wrapped.module, SOFTEQ, log=False).num_projected == 11
    finally:
        torch.distributed.destroy_process_group()


@pytest.mark.parametrize('softeq, message', [
    (dict(group='C4', softness=1.5), r'softeq\.softness'),
    (dict(group='C4', softness=dict(conv=0.5, patches=0.5)), 'unknown kind'),
    (dict(group='Cfour', softness=0.5), 'unknown group'),
])
def test_bad_softeq_in_the_hook_fails_when_the_runner_is_built(tmp_path, softeq, message):
    cfg = softeq_segformer_cfg(tmp_path, 'hook', softeq, norm_type='BN')
    with pytest.raises(ValueError, match=message):
        Runner.from_cfg(cfg)


BASE_WITH_EMA = """
default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmsofteq'], allow_failed_imports=False)
model = dict(type='ImageClassifier',
             backbone=dict(type='ResNet', depth=18, stem_channels=8, base_channels=8,
                           out_indices=(3, )),
             neck=dict(type='GlobalAveragePooling'),
             head=dict(type='LinearClsHead', num_classes=3, in_channels=64))
custom_hooks = [dict(type='EMAHook', momentum=1e-4, priority='ABOVE_NORMAL')]
"""


@pytest.mark.parametrize('form, warned', [
    ("custom_hooks = [dict(type='mmsofteq.SoftEqHook', softeq=dict(group='C4', "
     "softness=0.5))]", True),
    ("default_hooks = dict(softeq=dict(type='mmsofteq.SoftEqHook', softeq=dict(group='C4', "
     "softness=0.5)))", False)])
def test_the_hook_warns_when_its_custom_hooks_form_dropped_the_bases_ema_hook(
        tmp_path, form, warned):
    (tmp_path / 'base.py').write_text(BASE_WITH_EMA)
    (tmp_path / 'child.py').write_text(f"_base_ = ['./base.py']\n{form}\n")
    from mmengine.config import Config
    cfg = Config.fromfile(str(tmp_path / 'child.py'))
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.call_hook('before_run')
    names = {type(hook).__name__ for hook in runner.hooks}
    assert ('EMAHook' not in names) == warned
    message = "SoftEqHook: the config text names ['EMAHook'] but the run has no such hook"
    assert (message in log_text(runner)) == warned


@pytest.mark.parametrize('form, ema_priority', [('custom_hooks', 'ABOVE_NORMAL'),
                                                ('default_hooks', None)])
def test_ema_model_is_a_copy_of_the_projected_model(tmp_path, form, ema_priority):
    """EMAHook deep-copies the model in its before_run; SoftEqHook (VERY_HIGH) must inject
    first, whatever the order in the config, so the EMA model is projected too: its effective
    kernels are P·θ_ema, exactly rot90-invariant for C4 at softness 0, and its state-dict keys
    (also in the checkpoint, where EMAHook swaps the EMA weights into 'state_dict') are the
    base model's."""
    from mmengine.hooks import EMAHook
    softeq = dict(group='C4', softness=0.0)
    # 3 iterations: PolyLR reaches lr 0 at the last one, so with 2 the EMA would equal θ
    cfg = softeq_segformer_cfg(tmp_path, 'hook', softeq, max_iters=3, val_interval=100,
                               norm_type='BN')
    ema = dict(type='EMAHook', momentum=0.5)
    if ema_priority:
        ema['priority'] = ema_priority
    softeq_hook = cfg.custom_hooks[0]
    if form == 'custom_hooks':
        cfg.custom_hooks = [ema, softeq_hook]  # listed after EMAHook on purpose
    else:
        cfg.custom_hooks = [ema]
        cfg.default_hooks['softeq'] = softeq_hook
    init_default_scope('mmseg')
    base_keys = list(MODELS.build(cfg.model).state_dict())
    runner = Runner.from_cfg(cfg)
    runner.train()

    ema_hook = next(hook for hook in runner.hooks if isinstance(hook, EMAHook))
    ema_model, model = ema_hook.ema_model.module, unwrap(runner)
    assert ema_model is not model
    keys = [key for key, _, _ in projected_parameters(model)]
    assert len(keys) == 11
    assert [key for key, _, _ in projected_parameters(ema_model)] == keys
    averaged = 0
    for key, module, name in projected_parameters(ema_model):
        theta = module._parameters[name].detach()
        effective = getattr(module, name).detach()
        projector = getattr(module, BUFFER_PREFIX + name)
        assert torch.allclose(effective, (theta.flatten(2) @ projector).reshape(theta.shape),
                              atol=1e-6)
        assert torch.allclose(effective, torch.rot90(effective, 1, (2, 3)), atol=1e-6), key
        assert not torch.allclose(theta, torch.rot90(theta, 1, (2, 3)), atol=1e-3)
        averaged += not torch.equal(theta, model.state_dict()[key])  # an average, not a copy
    assert averaged > 0
    assert list(ema_model.state_dict()) == list(model.state_dict()) == base_keys
    checkpoint = torch.load(glob.glob(f'{runner.work_dir}/iter_3.pth')[0], map_location='cpu',
                            weights_only=False)
    assert list(checkpoint['state_dict']) == base_keys
    assert sorted(checkpoint['ema_state_dict']) == sorted(
        ['steps'] + [f'module.{key}' for key in base_keys])


def test_precise_bn_next_to_the_hook_measures_the_projected_model(tmp_path):
    """mmpretrain's ``PreciseBNHook`` (the other base hook official configs carry) in the same
    run as the hook form: the BN statistics it leaves are the ones mmpretrain's own
    ``update_bn_stats`` computes again on the trained *projected* model (effective weights
    ``P·θ``), and differ from those of the same ``θ`` unprojected, so it ran after the
    injection, on the model that is evaluated."""
    import copy

    from mmpretrain.engine.hooks.precise_bn_hook import update_bn_stats
    from torch.nn.modules.batchnorm import _BatchNorm

    cfg = softeq_segformer_cfg(tmp_path, 'hook', dict(group='C4', softness=0.0), max_iters=2,
                               val_interval=100, norm_type='BN')
    cfg.default_hooks['softeq'] = cfg.custom_hooks[0]
    cfg.custom_hooks = [dict(type='mmpretrain.PreciseBNHook', num_samples=4, interval=1)]
    cfg.train_dataloader['sampler'] = dict(type='DefaultSampler', shuffle=False)
    init_default_scope('mmseg')
    plain = MODELS.build(cfg.model)
    runner = Runner.from_cfg(cfg)
    runner.train()

    assert {'SoftEqHook', 'PreciseBNHook'} <= {type(hook).__name__ for hook in runner.hooks}
    model = unwrap(runner)
    assert len(list(projected_parameters(model))) > 0

    def bn_stats(network):
        return [torch.cat([m.running_mean, m.running_var]) for m in network.modules()
                if isinstance(m, _BatchNorm)]

    left = bn_stats(model)
    assert left, 'the tiny SegFormer should have BN layers (norm_type BN)'
    again = copy.deepcopy(model).train()
    update_bn_stats(again, runner.train_loop.dataloader, 4, logger='silent')
    for ours, recomputed in zip(left, bn_stats(again)):
        torch.testing.assert_close(ours, recomputed, rtol=1e-5, atol=1e-6)
    plain.load_state_dict(model.state_dict())  # the same θ, unprojected (keys are the base's)
    plain.train()
    update_bn_stats(plain, runner.train_loop.dataloader, 4, logger='silent')
    assert any(not torch.allclose(ours, raw, rtol=1e-3, atol=1e-5)
               for ours, raw in zip(left, bn_stats(plain)))
