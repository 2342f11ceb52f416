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
