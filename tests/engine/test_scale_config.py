"""The scale recipe as shipped: ``softeq_linear_dinov2-l14_fsdp-bf16_...`` through
``tools/dist_train.sh`` on 2 gloo ranks (FlexibleRunner, FSDPStrategy, the registered
``mmsofteq.size_based_auto_wrap_policy``, bf16 parameters with fp32 reductions), shrunk as
every config's step test is (tiny data, narrowed ViT, 64 px). The wrap threshold is lowered
so that the narrowed blocks become FSDP units as ViT-L's blocks do at full size.

Against the same job with the mixed precision removed (fp32 FSDP): the same data and
initialisation, so the first loss agrees to bf16's precision; both gathered checkpoints hold
fp32 θ that loads strictly into the single-process soft-equivariant model. ``--resume`` from
the first checkpoint ends bit-identical to the uninterrupted run (``mmsofteq.FSDPStrategy``
fixes mmengine's resume; the saved AdamW moments are checked against their closed form)."""
import math
import os
import os.path as osp
import re
import subprocess

import pytest
import torch
from fixtures.config_smoke import build_model, shrink_config
from fixtures.tools import REPO
from test_softeq_distributed import free_port

pytestmark = pytest.mark.slow  # two 2-process training runs

CONFIG = 'configs/segmentation/softeq_linear_dinov2-l14_fsdp-bf16_8xb4-4.6k_voc12-512x512.py'
STEPS = 3


def _dumped(roots, tmp_path, name, bf16):
    def edit(cfg):
        cfg.launcher = 'pytorch'
        cfg.train_cfg.max_iters = STEPS
        cfg.train_cfg.val_interval = STEPS
        cfg.default_hooks['checkpoint'] = dict(type='CheckpointHook', interval=1, by_epoch=False)
        cfg.strategy.model_wrapper.auto_wrap_policy.min_num_params = 1000
        if not bf16:
            cfg.strategy.model_wrapper.pop('mixed_precision')

    cfg = shrink_config(CONFIG, roots, str(tmp_path / f'work_{name}'), edit=edit)
    path = str(tmp_path / f'{name}.py')
    cfg.dump(path)
    return cfg, path


def _train(config, *args):
    env = dict(os.environ, PORT=str(free_port()), OMP_NUM_THREADS='1')
    return subprocess.run(['bash', osp.join(REPO, 'tools', 'dist_train.sh'), config, '2', *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=480)


def _load(path):
    return torch.load(path, weights_only=False, map_location='cpu')


@pytest.fixture(scope='module')
def runs(dataset_roots, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('scale')
    out = {}
    for name, bf16 in (('bf16', True), ('fp32', False), ('resumed', True)):
        cfg, path = _dumped(dataset_roots, tmp, name, bf16)
        args = ()
        if name == 'resumed':  # from the bf16 run's first checkpoint
            args = ('--resume', osp.join(out['bf16'][0].work_dir, 'iter_1.pth'))
        result = _train(path, *args)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        losses = [float(value) for value in
                  re.findall(r'Iter\(train\) \[\d+/\d+\].*? loss: ([\d.]+)', result.stdout)]
        checkpoint = _load(osp.join(cfg.work_dir, f'iter_{STEPS}.pth'))
        out[name] = (cfg, result.stdout, losses, checkpoint)
    return out


def test_the_registered_wrap_policy_makes_the_blocks_fsdp_units(runs):
    """mmengine logs every parameter's name as the optimizer sees it: each linear and the
    patch embedding sit inside their own FSDP unit inside the backbone's."""
    _, log, _, _ = runs['bf16']
    nested = '._fsdp_wrapped_module.'
    for unit in ('backbone._fsdp_wrapped_module.patch_embed.projection',
                 'backbone._fsdp_wrapped_module.layers.0.attn.qkv'):
        assert unit + nested in log, unit


def test_bf16_training_follows_fp32_training(runs):
    bf16, fp32 = runs['bf16'][2], runs['fp32'][2]
    assert len(bf16) == len(fp32) == STEPS and all(math.isfinite(v) for v in bf16 + fp32)
    assert bf16[0] == pytest.approx(fp32[0], rel=2e-2)  # bf16 has 8 significant bits
    assert bf16[0] != fp32[0]  # and the bf16 run did compute in bf16


@pytest.mark.parametrize('name', ['bf16', 'fp32'])
def test_the_gathered_checkpoint_holds_fp32_theta_for_the_plain_model(runs, name):
    cfg, _, _, checkpoint = runs[name]
    state = checkpoint['state_dict']
    key = 'backbone.patch_embed.projection.weight'  # θ, under the base key
    assert key in state and state[key].dtype == torch.float32
    model = build_model(cfg)
    model.load_state_dict(state)  # strict: θ under the base keys, nothing missing


def test_resume_continues_bit_identically(runs):
    _, log, losses, resumed = runs['resumed']
    _, _, full_losses, full = runs['bf16']
    assert 'resumed epoch: 0, iter: 1' in log
    assert losses == full_losses[1:]
    assert list(resumed['state_dict']) == list(full['state_dict'])
    for key, value in full['state_dict'].items():
        assert torch.equal(resumed['state_dict'][key], value), key
    for key, state in full['optimizer']['state'].items():
        for name in ('exp_avg', 'exp_avg_sq'):
            assert torch.equal(resumed['optimizer']['state'][key][name], state[name]), key


def test_the_saved_adamw_moments_are_adams(runs):
    """After AdamW's first step from zero moments, ``m = (1 − β₁) g`` and ``v = (1 − β₂) g²``,
    so ``v = (1 − β₂) / (1 − β₁)² · m²`` for every parameter, in the gathered checkpoint too
    (torch's CPU gather saved ``m = v`` before ``mmsofteq.FSDPStrategy``)."""
    cfg, _, _, _ = runs['bf16']
    first = _load(osp.join(cfg.work_dir, 'iter_1.pth'))['optimizer']
    beta1, beta2 = first['param_groups'][0]['betas']
    checked = 0
    for state in first['state'].values():
        m, v = state['exp_avg'].double(), state['exp_avg_sq'].double()
        expected = (1 - beta2) / (1 - beta1) ** 2 * m ** 2
        assert torch.allclose(v, expected, rtol=1e-4, atol=1e-30)
        checked += int(m.abs().max() > 0)
    assert checked > 10  # parameters with a non-zero gradient
