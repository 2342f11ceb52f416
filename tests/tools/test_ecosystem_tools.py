"""mmseg's and mmpretrain's own ``tools/test.py`` (shipped in their wheels) on mmsofteq
configs: ``--cfg-options softeq.softness=...`` changes the softness the model is built with,
and ``--tta`` with ``tta_model = dict(type='mmsofteq.OrbitAveragedModel', ...)`` is rotation
test-time augmentation."""
import os.path as osp
import re
import subprocess
import sys

import mmpretrain
import mmseg
import pytest
import torch
from fixtures.config_smoke import REPO, load_config, make_dataset_roots, point_data
from fixtures.tiny_models import softeq_segformer_cfg

pytestmark = pytest.mark.slow  # subprocess runs of the ecosystem's test.py


class _EcosystemTest:
    """``cfg`` dumped to ``tmp_path/cfg.py``, its model built (``scope``) and saved as the
    checkpoint (``state_hook`` may change the state dict first); :meth:`run` calls the
    package's own ``tools/test.py`` on them."""

    def __init__(self, tmp_path, cfg, scope: str, state_hook=None) -> None:
        from mmengine.registry import MODELS, init_default_scope
        self.tmp_path, self.config = tmp_path, str(tmp_path / 'cfg.py')
        cfg.dump(self.config)
        init_default_scope(scope)
        torch.manual_seed(0)
        state = MODELS.build(cfg.model).state_dict()
        if state_hook is not None:
            state_hook(state)
        self.checkpoint = str(tmp_path / 'start.pth')
        torch.save(dict(state_dict=state, meta={}), self.checkpoint)
        package = mmseg if scope == 'mmseg' else mmpretrain
        self.tool = osp.join(osp.dirname(package.__file__), '.mim', 'tools', 'test.py')

    def run(self, *extra: str) -> str:
        result = subprocess.run([sys.executable, self.tool, self.config, self.checkpoint,
                                 '--work-dir', str(self.tmp_path / 'test'), *extra], cwd=REPO,
                                capture_output=True, text=True, timeout=300)
        log = result.stdout + result.stderr
        assert result.returncode == 0, log[-3000:]
        return log

    def metrics(self, key: str, *extra: str) -> dict:
        """The numbers of the last log line holding ``key:``."""
        line = [text for text in self.run(*extra).splitlines() if f'{key}:' in text][-1]
        return {name: float(value) for name, value in re.findall(r'([\w/]+): (-?[\d.]+)', line)}


@pytest.mark.parametrize('mode', ['wrapper', 'hook'])
def test_mmseg_test_py_honours_softeq_options(tmp_path, mode):
    cfg = softeq_segformer_cfg(tmp_path, mode, dict(group='C4', softness=0.9), num_images=2,
                               norm_type='BN')
    log = _EcosystemTest(tmp_path, cfg, 'mmseg').run('--cfg-options', 'softeq.softness=0.25')
    assert 'hard(s=0.25,frequency)' in log and 'hard(s=0.9,' not in log


def test_mmseg_test_py_tta_is_c4_orbit_averaging_with_the_rotated_metrics(tmp_path):
    """``tta_model = dict(type='mmsofteq.OrbitAveragedModel', group='C4')`` through mmseg's own
    ``test.py --tta``, with the rotated test loop at exact quarter turns (square 32 px images):
    the averaged SoftEq model is C4-equivariant, so its rotated prediction is the rotated clean
    one (eErr 0, aIoU = mIoU, no pixel flips); without ``--tta`` the same checkpoint is not."""
    cfg = softeq_segformer_cfg(tmp_path, 'wrapper', dict(group='SO2', softness=0.9),
                               num_images=2, norm_type='BN')
    cfg.test_cfg = dict(type='mmsofteq.RotatedTestLoop', angles=dict(kind='cyclic', order=4))
    cfg.tta_model = dict(type='mmsofteq.OrbitAveragedModel', group='C4', combine='mean_probs')
    cfg.tta_pipeline = cfg.test_dataloader.dataset.pipeline
    job = _EcosystemTest(tmp_path, cfg, 'mmseg')
    plain, averaged = job.metrics('eErr'), job.metrics('eErr', '--tta')
    assert plain['eErr'] > 0.01 and plain['aIoU'] != plain['mIoU']
    assert averaged['eErr'] < 1e-4 and averaged['flip'] == 0.0
    assert averaged['aIoU'] == pytest.approx(averaged['mIoU'], abs=0.005)  # mmseg rounds mIoU


def test_mmpretrain_test_py_tta_is_c4_orbit_averaging(tmp_path):
    """The classification demo config's ``tta_model`` through mmpretrain's own ``test.py
    --tta`` on the demo digits layout (32 px), quarter-turn angles: the averaged classifier
    is C4-invariant (iErr 0, rotated accuracy = accuracy); without ``--tta`` it is not."""
    cfg = load_config(osp.join(REPO, 'configs/demo/resnet_softeq_digits_cls.py'))
    point_data(cfg, make_dataset_roots(str(tmp_path / 'data')))
    cfg.test_cfg = dict(type='mmsofteq.RotatedTestLoop', angles=dict(kind='cyclic', order=4))
    cfg.test_dataloader.num_workers = 0
    cfg.test_dataloader.persistent_workers = False

    def confident(state):  # large logits: a model that is not invariant shows in iErr
        state['head.fc.weight'] *= 100
    job = _EcosystemTest(tmp_path, cfg, 'mmpretrain', confident)
    plain, averaged = job.metrics('iErr'), job.metrics('iErr', '--tta')
    assert plain['iErr'] > 1e-3
    assert averaged['iErr'] < 1e-4
    assert averaged['rotated_accuracy/top1'] == averaged['accuracy/top1']
