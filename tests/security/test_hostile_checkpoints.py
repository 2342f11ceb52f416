"""Hostile and broken checkpoints through every route that loads one: ``load_from`` and
``--resume`` (tools/train.py), tools/test.py and tools/export_checkpoint.py.

The tools run in this process (their ``main``) on a tiny soft-equivariant SegFormer trained
here by the real Runner; the hostile files (tests/fixtures/hostile_checkpoints.py) are derived
from its checkpoint. Every refused file must be refused with the expected error *before*
anything runs, and leave no marker file; the config-code file must load with its code not run.
One more check runs the real command line in a subprocess (the crafted numpy dtype used to
crash it with SIGSEGV).
"""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from fixtures import make_tiny_voc, tiny_segformer_cfg
from fixtures.hostile_checkpoints import EXPECTED_ERRORS, HOSTILE_FILES, first_floating_weight
from fixtures.tools import REPO, load_tool

from mmsofteq.utils import TRUST_ENV_VAR, trusted_checkpoint_loading

pytestmark = pytest.mark.slow  # real Runner runs

ROUTES = ('load_from', 'resume', 'test', 'export')


@pytest.fixture(scope='module')
def job(tmp_path_factory):
    """``(config, genuine checkpoint, folder)``: 2 iterations of a tiny softeq SegFormer."""
    root = tmp_path_factory.mktemp('hostile')
    data_root = make_tiny_voc(root / 'voc', num_images=4, size=32, num_classes=4)
    cfg = tiny_segformer_cfg(data_root, root / 'unused', num_classes=4, max_iters=2,
                             checkpoint_interval=2, norm_type='BN')
    cfg.model = dict(type='mmsofteq.SoftEqModel', model=cfg.model,
                     softeq=dict(group='C8', softness=0.5))
    cfg.custom_imports = dict(imports=['mmsofteq'], allow_failed_imports=False)
    cfg.default_hooks.finite_check = dict(type='mmsofteq.FiniteCheckHook')
    config = str(root / 'softeq_segformer.py')
    cfg.dump(config)
    load_tool('train.py').main([config, '--work-dir', str(root / 'genuine')])
    genuine = str(root / 'genuine' / 'iter_2.pth')
    assert osp.isfile(genuine)
    return config, genuine, root


def run_route(route, config, checkpoint, work_dir):
    os.makedirs(work_dir, exist_ok=True)
    if route == 'load_from':
        load_tool('train.py').main([config, '--work-dir', work_dir, '--cfg-options',
                                    f'load_from={checkpoint}', 'train_cfg.max_iters=1'])
    elif route == 'resume':
        load_tool('train.py').main([config, '--work-dir', work_dir, '--resume', checkpoint,
                                    '--cfg-options', 'train_cfg.max_iters=3'])
    elif route == 'test':
        load_tool('test.py').main([config, checkpoint, '--work-dir', work_dir])
    else:
        load_tool('export_checkpoint.py').main([config, checkpoint,
                                                osp.join(work_dir, 'exported.pth')])


@pytest.fixture
def untrusted(monkeypatch):
    monkeypatch.delenv(TRUST_ENV_VAR, raising=False)


@pytest.mark.parametrize('route', ROUTES)
@pytest.mark.parametrize('hostile', sorted(HOSTILE_FILES))
def test_every_route_refuses_or_defuses_a_hostile_file(job, hostile, route, tmp_path, untrusted):
    config, genuine, _ = job
    path, marker = str(tmp_path / f'{hostile}.pth'), str(tmp_path / 'marker')
    HOSTILE_FILES[hostile](path, marker, genuine)
    work_dir = str(tmp_path / 'work')
    expected = EXPECTED_ERRORS[hostile]
    if expected is None:
        run_route(route, config, path, work_dir)
    else:
        error_type, message = expected
        with pytest.raises(Exception) as raised:
            run_route(route, config, path, work_dir)
        assert type(raised.value).__name__ == error_type, raised.value
        text = str(raised.value)
        if hostile == 'nan_weights':
            assert first_floating_weight(genuine).split('.')[-1] in text
        else:
            assert path in text and message in text, text
        if error_type == 'DamagedCheckpointError':
            assert TRUST_ENV_VAR not in text  # never "turn safety off" for a broken file
        # refused before any training iteration or output was written
        assert not osp.exists(osp.join(work_dir, 'iter_1.pth'))
        assert not osp.exists(osp.join(work_dir, 'exported.pth'))
    assert not osp.exists(marker), f'{hostile} ran code through {route}'
    if hostile == 'config_code' and route == 'resume':
        assert osp.isfile(osp.join(work_dir, 'iter_3.pth'))  # resumed 2 -> 3


def test_trusting_the_config_code_file_is_what_runs_its_code(job, tmp_path, untrusted):
    """The control of the test above: with trust, mmengine's resume runs meta['config']."""
    config, genuine, _ = job
    path, marker = str(tmp_path / 'config_code.pth'), str(tmp_path / 'marker')
    HOSTILE_FILES['config_code'](path, marker, genuine)
    with trusted_checkpoint_loading():
        run_route('resume', config, path, str(tmp_path / 'work'))
    with open(marker) as file:
        assert file.read() == 'config code ran'


def test_the_command_line_refuses_the_crafted_dtype_with_a_message_not_a_crash(
        job, tmp_path):
    config, genuine, _ = job
    path = str(tmp_path / 'crafted.pth')
    HOSTILE_FILES['crafted_numpy_dtype'](path, str(tmp_path / 'marker'), genuine)
    env = {key: value for key, value in os.environ.items() if key != TRUST_ENV_VAR}
    result = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'train.py'), config, '--work-dir',
         str(tmp_path / 'work'), '--resume', path], cwd=REPO, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    assert result.returncode == 1, result.stdout[-3000:]  # an exception, not SIGSEGV (-11)
    assert 'UnsafeCheckpointError' in result.stdout and "numpy.dtype('V8'" in result.stdout


def test_the_genuine_checkpoint_still_resumes(job, tmp_path, untrusted):
    config, genuine, _ = job
    run_route('resume', config, genuine, str(tmp_path / 'work'))
    resumed = torch.load(str(tmp_path / 'work' / 'iter_3.pth'), map_location='cpu',
                         weights_only=False)
    assert resumed['meta']['iter'] == 3
