"""mmengine's ``FlexibleRunner`` with ``FSDPStrategy`` through ``tools/dist_train.sh`` (2 gloo
ranks on CPU: ``prepare_runtime`` gives the strategy ``device_id='cpu'``), against the
``Runner`` with DDP on the same config, data and starting weights: the same losses, the same
parameters after training (bit-identical here), the same rotated validation metrics; the
gathered FSDP checkpoint reloads into a single-process model and, exported, into vanilla mmseg;
the hook form refuses FSDP with the fix."""
import json
import os
import os.path as osp
import subprocess

import pytest
import torch
from fixtures.tiny_models import softeq_segformer_cfg
from fixtures.tools import REPO
from test_softeq_distributed import free_port

pytestmark = pytest.mark.slow  # two 2-process training runs

SOFTEQ = dict(group='C4', softness=0.5, min_kernel_size=2)


def _config(tmp_path, name, mode='wrapper', flexible=True, load_from=None):
    cfg = softeq_segformer_cfg(tmp_path, mode, SOFTEQ, work_dir=f'work_{name}', max_iters=2,
                               num_images=8, norm_type='BN')
    cfg.val_cfg = dict(type='mmsofteq.RotatedValLoop')
    cfg.load_from = load_from
    if flexible:
        cfg.runner_type = 'FlexibleRunner'
        cfg.strategy = dict(type='FSDPStrategy', state_dict_cfg='full')
        cfg.launcher = 'pytorch'
    path = str(tmp_path / f'{name}.py')
    cfg.dump(path)
    return cfg, path


def _train(config):
    env = dict(os.environ, PORT=str(free_port()), OMP_NUM_THREADS='1')
    return subprocess.run(['bash', osp.join(REPO, 'tools', 'dist_train.sh'), config, '2'],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=480)


def _scalars(work_dir):
    (run, ) = [name for name in os.listdir(work_dir) if osp.isdir(osp.join(work_dir, name))
               and osp.isfile(osp.join(work_dir, name, 'vis_data', 'scalars.json'))]
    with open(osp.join(work_dir, run, 'vis_data', 'scalars.json')) as file:
        return [json.loads(line) for line in file]


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    from mmengine.registry import MODELS, init_default_scope
    tmp = tmp_path_factory.mktemp('flexible')
    cfg, _ = _config(tmp, 'init')
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)     # SoftEqModel: θ under the base keys
    model.init_weights()
    start = str(tmp / 'start.pth')
    torch.save(dict(state_dict=model.state_dict(), meta={}), start)
    out = {}
    for name, flexible in (('ddp', False), ('fsdp', True)):
        cfg, path = _config(tmp, name, flexible=flexible, load_from=start)
        result = _train(path)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        out[name] = (cfg, torch.load(osp.join(cfg.work_dir, 'iter_2.pth'),
                                     weights_only=False, map_location='cpu'),
                     _scalars(cfg.work_dir))
    out['tmp'] = tmp
    return out


def test_fsdp_strategy_trains_and_validates_as_ddp(runs):
    (_, ddp, ddp_scalars), (_, fsdp, fsdp_scalars) = runs['ddp'], runs['fsdp']
    assert list(fsdp['state_dict']) == list(ddp['state_dict'])
    worst = max(float((fsdp['state_dict'][key] - ddp['state_dict'][key]).abs().max())
                for key in ddp['state_dict'])
    assert worst <= 1e-6, worst
    losses = [[entry['loss'] for entry in scalars if 'loss' in entry]
              for scalars in (ddp_scalars, fsdp_scalars)]
    assert losses[0] == pytest.approx(losses[1], rel=1e-6) and len(losses[0]) == 2
    metrics = [next(entry for entry in scalars if 'aIoU' in entry)
               for scalars in (ddp_scalars, fsdp_scalars)]
    for key in ('mIoU', 'aIoU', 'eErr', 'flip'):
        assert metrics[1][key] == pytest.approx(metrics[0][key], abs=1e-4), key


def test_the_gathered_fsdp_checkpoint_reloads_and_exports_to_vanilla_mmseg(runs):
    """The full FSDP checkpoint holds θ under the base keys: it loads strictly into the
    soft-equivariant model, and tools/export_checkpoint.py turns it into P·θ that a plain
    mmseg EncoderDecoder (no mmsofteq) reproduces."""
    from mmengine.registry import MODELS, init_default_scope
    cfg, fsdp, _ = runs['fsdp']
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    model.load_state_dict(fsdp['state_dict'])
    model.eval()
    out = str(runs['tmp'] / 'exported.pth')
    result = subprocess.run(['python', osp.join(REPO, 'tools', 'export_checkpoint.py'),
                             osp.join(runs['tmp'], 'fsdp.py'),
                             osp.join(cfg.work_dir, 'iter_2.pth'), out],
                            cwd=REPO, capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, PATH=osp.dirname(
                                __import__('sys').executable) + os.pathsep + os.environ['PATH']))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    plain = MODELS.build(cfg.model['model'])
    plain.load_state_dict(torch.load(out, weights_only=False)['state_dict'])
    plain.eval()
    image = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.allclose(plain(image, mode='tensor'), model(image, mode='tensor'),
                              atol=1e-5)


def test_the_hook_form_refuses_fsdp_and_names_the_wrapper_form(tmp_path):
    _, path = _config(tmp_path, 'hook', mode='hook')
    result = _train(path)
    assert result.returncode != 0
    assert 'mmsofteq.SoftEqHook: the model is already sharded' in result.stderr
    assert "model=dict(type='mmsofteq.SoftEqModel'" in result.stderr
