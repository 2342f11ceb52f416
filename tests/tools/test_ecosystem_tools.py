"""mmseg's own ``tools/test.py`` (shipped in the mmseg wheel) on a soft-equivariant config:
``--cfg-options softeq.softness=...`` changes the softness the model is built with."""
import os.path as osp
import subprocess
import sys

import mmseg
import pytest
import torch
from fixtures.tiny_models import softeq_segformer_cfg

pytestmark = pytest.mark.slow  # a subprocess run of mmseg's test.py


@pytest.mark.parametrize('mode', ['wrapper', 'hook'])
def test_mmseg_test_py_honours_softeq_options(tmp_path, mode):
    from mmengine.registry import MODELS, init_default_scope
    cfg = softeq_segformer_cfg(tmp_path, mode, dict(group='C4', softness=0.9), num_images=2,
                               norm_type='BN')
    config = str(tmp_path / 'cfg.py')
    cfg.dump(config)
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    checkpoint = str(tmp_path / 'start.pth')
    torch.save(dict(state_dict=model.state_dict(), meta={}), checkpoint)
    tool = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools', 'test.py')
    result = subprocess.run([sys.executable, tool, config, checkpoint, '--work-dir',
                             str(tmp_path / 'test'), '--cfg-options', 'softeq.softness=0.25'],
                            capture_output=True, text=True, timeout=300)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert 'hard(s=0.25,frequency)' in log and 'hard(s=0.9,' not in log


def test_mmseg_test_py_tta_is_c4_orbit_averaging_with_the_rotated_metrics(tmp_path):
    """``tta_model = dict(type='mmsofteq.OrbitAveragedModel', group='C4')`` through mmseg's own
    ``test.py --tta``, with the rotated test loop at exact quarter turns (square 32 px images):
    the averaged SoftEq model is C4-equivariant, so its rotated prediction is the rotated clean
    one (eErr 0, aIoU = mIoU, no pixel flips); without ``--tta`` the same checkpoint is not."""
    import re
    from mmengine.registry import MODELS, init_default_scope
    cfg = softeq_segformer_cfg(tmp_path, 'wrapper', dict(group='SO2', softness=0.9),
                               num_images=2, norm_type='BN')
    cfg.test_cfg = dict(type='mmsofteq.RotatedTestLoop', angles=dict(kind='cyclic', order=4))
    cfg.tta_model = dict(type='mmsofteq.OrbitAveragedModel', group='C4', combine='mean_probs')
    cfg.tta_pipeline = cfg.test_dataloader.dataset.pipeline
    config = str(tmp_path / 'cfg.py')
    cfg.dump(config)
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    checkpoint = str(tmp_path / 'start.pth')
    torch.save(dict(state_dict=model.state_dict(), meta={}), checkpoint)
    tool = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools', 'test.py')

    def metrics(*extra):
        result = subprocess.run([sys.executable, tool, config, checkpoint, '--work-dir',
                                 str(tmp_path / 'test'), *extra],
                                capture_output=True, text=True, timeout=300)
        log = result.stdout + result.stderr
        assert result.returncode == 0, log[-3000:]
        line = [text for text in log.splitlines() if 'eErr:' in text][-1]
        return {key: float(value) for key, value in re.findall(r'(\w+): (-?[\d.]+)', line)}
    plain, averaged = metrics(), metrics('--tta')
    assert plain['eErr'] > 0.01 and plain['aIoU'] != plain['mIoU']
    assert averaged['eErr'] < 1e-4 and averaged['flip'] == 0.0
    assert averaged['aIoU'] == pytest.approx(averaged['mIoU'], abs=0.005)  # mmseg rounds mIoU


def test_mmpretrain_test_py_tta_is_c4_orbit_averaging(tmp_path):
    """The classification demo config's ``tta_model`` through mmpretrain's own ``test.py
    --tta`` on the demo digits layout (32 px), quarter-turn angles: the averaged classifier
    is C4-invariant (iErr 0, rotated accuracy = accuracy); without ``--tta`` it is not."""
    import re

    import mmpretrain
    from fixtures.config_smoke import REPO, load_config, make_dataset_roots, point_data
    from mmengine.registry import MODELS, init_default_scope
    cfg = load_config(osp.join(REPO, 'configs/demo/resnet_softeq_digits_cls.py'))
    point_data(cfg, make_dataset_roots(str(tmp_path / 'data')))
    cfg.test_cfg = dict(type='mmsofteq.RotatedTestLoop', angles=dict(kind='cyclic', order=4))
    cfg.test_dataloader.num_workers = 0
    cfg.test_dataloader.persistent_workers = False
    config = str(tmp_path / 'cfg.py')
    cfg.dump(config)
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    state = model.state_dict()
    state['head.fc.weight'] *= 100  # confident logits: a non-invariant model shows in iErr
    checkpoint = str(tmp_path / 'start.pth')
    torch.save(dict(state_dict=state, meta={}), checkpoint)
    tool = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'tools', 'test.py')

    def metrics(*extra):
        result = subprocess.run([sys.executable, tool, config, checkpoint, '--work-dir',
                                 str(tmp_path / 'test'), *extra], cwd=REPO,
                                capture_output=True, text=True, timeout=300)
        log = result.stdout + result.stderr
        assert result.returncode == 0, log[-3000:]
        line = [text for text in log.splitlines() if 'iErr:' in text][-1]
        return {key: float(value) for key, value in re.findall(r'([\w/]+): (-?[\d.]+)', line)}
    plain, averaged = metrics(), metrics('--tta')
    assert plain['iErr'] > 1e-3
    assert averaged['iErr'] < 1e-4
    assert averaged['rotated_accuracy/top1'] == averaged['accuracy/top1']
