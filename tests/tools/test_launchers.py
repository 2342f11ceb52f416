"""tools/train.py, tools/test.py, tools/dist_train.sh, tools/dist_test.sh on a CPU-only machine.

Real processes all the way: torchrun starts 2 training processes that talk over gloo and wrap
the model in MMDistributedDataParallel; the config uses SyncBN like mmseg's own configs.
"""
import json
import os
import os.path as osp
import re
import shutil
import socket
import subprocess
import sys

import pytest
import torch
from fixtures import make_tiny_voc, tiny_segformer_cfg
from fixtures.tools import REPO as ROOT
from fixtures.tools import TOOLS, load_tool
from mmengine.config import Config

from mmsofteq.utils import (cuda_is_usable, dist_env_from_launcher, load_checkpoint_file,
                            prepare_runtime, replace_sync_bn)

pytestmark = pytest.mark.slow  # real Runner / subprocess runs

TIMEOUT_S = 600


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _run(command, log_path):
    """Run a tool with this interpreter; return its combined output, failing with it shown."""
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()), MPLBACKEND='Agg')
    env.pop(  # keep the opt-in out: these runs must load checkpoints the safe way
        'MMSOFTEQ_TRUST_CHECKPOINTS', None)
    result = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT_S,
                            stdin=subprocess.DEVNULL)
    with open(log_path, 'w', encoding='utf-8') as file:
        file.write(result.stdout)
    assert result.returncode == 0, f'{command} failed:\n{result.stdout[-6000:]}'
    return result.stdout


def _load_tool(name):
    return load_tool(f'{name}.py')


@pytest.fixture(scope='module')
def tiny_job(tmp_path_factory):
    """A tiny VOC-layout dataset (8 train / 4 val images) and a SyncBN SegFormer config file."""
    root = tmp_path_factory.mktemp('tiny_job')
    data_root = make_tiny_voc(root / 'voc', num_images=8, size=32, num_classes=4)
    cfg = tiny_segformer_cfg(data_root, root / 'default_work_dir', num_classes=4, max_iters=2)
    assert cfg.model.decode_head.norm_cfg.type == 'SyncBN'
    config = str(root / 'tiny_segformer.py')
    cfg.dump(config)
    return root, config


@pytest.fixture(scope='module')
def dist_trained(tiny_job):
    """``bash tools/dist_train.sh CONFIG 2``: 2 CPU processes, 2 iterations, validation."""
    root, config = tiny_job
    work_dir = str(root / 'dist_train')
    output = _run(['bash', osp.join(TOOLS, 'dist_train.sh'), config, '2', '--work-dir',
                   work_dir], root / 'dist_train.log')
    return work_dir, output


def test_dist_train_runs_two_gloo_processes_and_writes_a_loadable_checkpoint(
        tiny_job, dist_trained):
    _, config = tiny_job
    work_dir, output = dist_trained
    assert 'Distributed training: True' in output
    assert re.search(r'GPU number: 2\b', output)  # mmengine's name for the world size
    assert 'pytorch launcher on CPU with gloo, world size 2' in output
    assert re.search(r'Iter\(val\) \[\d+/\d+\].*mIoU: \d', output)  # validation ran

    checkpoint = osp.join(work_dir, 'iter_2.pth')
    loaded = load_checkpoint_file(checkpoint, map_location='cpu')  # the safe path
    assert loaded['meta']['iter'] == 2
    # our own file: its config text (kept as a string by the safe load) may be executed
    saved_cfg = Config.fromstring(loaded['meta']['untrusted_config_text']['meta.cfg'],
                                  file_format='.py')
    assert saved_cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert saved_cfg.env_cfg.dist_cfg.timeout == 300  # the default collective timeout
    assert saved_cfg.model_wrapper_cfg.device_ids is None
    assert saved_cfg.model.decode_head.norm_cfg.type == 'BN'

    # The checkpoint restores every weight of the model the (unmodified) config describes.
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules()
    model_cfg = Config.fromfile(config).model
    replace_sync_bn(model_cfg)
    model = MODELS.build(model_cfg)
    model.load_state_dict(loaded['state_dict'], strict=True)
    assert not any(key.startswith('module.') for key in loaded['state_dict'])


def test_train_resume_continues_a_distributed_checkpoint(tiny_job, dist_trained):
    root, config = tiny_job
    work_dir = str(root / 'resume')
    shutil.copytree(dist_trained[0], work_dir)
    with open(osp.join(work_dir, 'last_checkpoint'), 'w', encoding='utf-8') as file:
        file.write(osp.join(work_dir, 'iter_2.pth'))  # the copy, not the original
    output = _run([sys.executable, osp.join(TOOLS, 'train.py'), config, '--work-dir', work_dir,
                   '--resume', '--cfg-options', 'train_cfg.max_iters=3',
                   'default_hooks.checkpoint.interval=1'], root / 'resume.log')
    assert 'resumed epoch: 0, iter: 2' in output
    assert 'Iter(train) [3/3]' in output and 'Iter(train) [1/3]' not in output
    resumed = load_checkpoint_file(osp.join(work_dir, 'iter_3.pth'), map_location='cpu')
    assert resumed['meta']['iter'] == 3
    before = load_checkpoint_file(osp.join(work_dir, 'iter_2.pth'), 'cpu')['state_dict']
    assert any(not torch.equal(value, resumed['state_dict'][name])
               for name, value in before.items() if value.is_floating_point())


def test_dist_test_evaluates_and_writes_predictions(tiny_job, dist_trained):
    root, config = tiny_job
    out_dir = str(root / 'predictions')
    output = _run(['bash', osp.join(TOOLS, 'dist_test.sh'), config,
                   osp.join(dist_trained[0], 'iter_2.pth'), '2', '--work-dir',
                   str(root / 'dist_test'), '--out', out_dir], root / 'dist_test.log')
    assert re.search(r'Iter\(test\) \[\d+/\d+\].*mIoU: \d', output)
    with open(root / 'voc' / 'ImageSets' / 'Segmentation' / 'val.txt', encoding='utf-8') as file:
        val_names = file.read().split()
    assert sorted(os.listdir(out_dir)) == sorted(f'{name}.png' for name in val_names)


def test_test_py_single_process_with_tta_and_show_dir(tiny_job, dist_trained):
    root, config = tiny_job
    show_dir = str(root / 'show')
    output = _run([sys.executable, osp.join(TOOLS, 'test.py'), config,
                   osp.join(dist_trained[0], 'iter_2.pth'), '--work-dir',
                   str(root / 'single_test'), '--tta', '--show-dir', show_dir,
                   '--cfg-options', 'default_hooks.visualization.interval=1'],
                  root / 'single_test.log')
    assert re.search(r'Iter\(test\) \[4/4\].*mIoU: \d', output)
    painted = [name for _, _, files in os.walk(show_dir) for name in files
               if name.endswith('.png')]
    assert len(painted) == 4


def test_test_py_angles_overrides_the_rotated_test_loop(tiny_job, dist_trained):
    root, config = tiny_job
    rotated_cfg = Config.fromfile(config)
    rotated_cfg.test_cfg = dict(type='mmsofteq.RotatedTestLoop')
    rotated_cfg.test_evaluator = dict(type='mmsofteq.RotatedIoUMetric')
    rotated_config = str(root / 'tiny_segformer_rotated.py')
    rotated_cfg.dump(rotated_config)

    test = _load_tool('test')
    args, parser = test.parse_args([rotated_config, 'unused.pth', '--angles', 'c4@7'])
    assert test.build_cfg(args, parser).test_cfg.angles == dict(kind='cyclic', order=4, seed=7)
    args, parser = test.parse_args([config, 'unused.pth', '--angles', 'c4'])
    with pytest.raises(ValueError, match='RotatedTestLoop'):  # plain TestLoop: refused
        test.build_cfg(args, parser)
    args, parser = test.parse_args([rotated_config, 'unused.pth', '--worst-of', '3'])
    assert test.build_cfg(args, parser).test_cfg.worst_of == 3
    for bad in ([config, 'unused.pth', '--worst-of', '3'],          # plain TestLoop
                [rotated_config, 'unused.pth', '--worst-of', '1']):  # not a worst case
        args, parser = test.parse_args(bad)
        with pytest.raises(SystemExit):
            test.build_cfg(args, parser)

    work_dir = str(root / 'angles_test')
    output = _run([sys.executable, osp.join(TOOLS, 'test.py'), rotated_config,
                   osp.join(dist_trained[0], 'iter_2.pth'), '--work-dir', work_dir,
                   '--angles', 'c4@7'], root / 'angles_test.log')
    assert re.search(r'Iter\(test\) \[4/4\].*aIoU: \d', output)
    used = Config.fromfile(osp.join(work_dir, 'tiny_segformer_rotated.py'))
    assert used.test_cfg.angles == dict(kind='cyclic', order=4, seed=7)


def test_dist_train_test_best_tests_the_checkpoint_it_selected(tiny_job):
    """``dist_train.sh CONFIG 2 --test-best``: validation every iteration keeps the best mIoU
    checkpoint; after training every rank loads it and runs the test loop, whose metrics equal
    those of ``tools/test.py`` on that file."""
    root, config = tiny_job
    work_dir = str(root / 'test_best')
    output = _run(['bash', osp.join(TOOLS, 'dist_train.sh'), config, '2', '--work-dir',
                   work_dir, '--test-best', '--cfg-options', 'train_cfg.max_iters=3',
                   'train_cfg.val_interval=1', 'default_hooks.checkpoint.save_best=mIoU',
                   'default_hooks.checkpoint.interval=3'], root / 'test_best.log')
    best = re.search(r'--test-best: testing (\S+best_mIoU_iter_\d\.pth)', output).group(1)
    assert osp.isfile(best)
    # the file the CheckpointHook last announced as best
    announced = re.findall(r'The best checkpoint with [\d.]+ mIoU at (\d+) iter', output)
    assert osp.basename(best) == f'best_mIoU_iter_{announced[-1]}.pth'
    tested = re.findall(r'Iter\(test\) \[\d+/\d+\].*?mIoU: ([\d.]+)', output)
    assert len(tested) == 1
    with open(osp.join(work_dir, 'test_best.json'), encoding='utf-8') as file:
        written = json.load(file)  # by rank 0 only, for softeq_lab.sweeps.multi_seed --collect
    assert written['checkpoint'] == best
    assert written['metrics']['mIoU'] == pytest.approx(float(tested[0]), abs=1e-4)
    again = _run([sys.executable, osp.join(TOOLS, 'test.py'), config, best, '--work-dir',
                  str(root / 'test_best_again')], root / 'test_best_again.log')
    assert re.findall(r'Iter\(test\) \[\d+/\d+\].*?mIoU: ([\d.]+)', again) == tested


def test_test_best_needs_a_save_best_checkpoint_hook(tiny_job, capsys):
    train = _load_tool('train')
    args, parser = train.parse_args([tiny_job[1], '--test-best'])
    with pytest.raises(SystemExit) as exit_info:
        train.build_cfg(args, parser)
    assert exit_info.value.code == 2
    assert 'has no save_best' in capsys.readouterr().err


def test_amp_on_cpu_is_a_clear_usage_error(tiny_job, capsys):
    if cuda_is_usable():
        pytest.fail('this test describes the CPU-only behaviour; run it without CUDA')
    train = _load_tool('train')
    args, parser = train.parse_args([tiny_job[1], '--amp'])
    with pytest.raises(SystemExit) as exit_info:
        train.build_cfg(args, parser)
    assert exit_info.value.code == 2
    assert '--amp needs a CUDA device' in capsys.readouterr().err


def test_prepare_runtime_rewrites_mmseg_syncbn_config_without_touching_single_process():
    import mmseg
    cfg = Config.fromfile(osp.join(osp.dirname(mmseg.__file__), '.mim', 'configs', 'segformer',
                                   'segformer_mit-b0_8xb2-160k_ade20k-512x512.py'))
    assert cfg.model.decode_head.norm_cfg.type == 'SyncBN'
    cfg.sync_bn = 'torch'
    assert prepare_runtime(cfg, 'none') == 'cpu'
    assert 'SyncBN' not in cfg.pretty_text
    assert cfg.model.decode_head.norm_cfg == dict(type='BN', requires_grad=True)
    assert cfg.sync_bn is None
    assert cfg.get('model_wrapper_cfg') is None  # no process group, no DDP settings


LAUNCHER_VARIABLES = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_', 'OMPI_', 'SLURM_')


def _dist_env(monkeypatch, launcher, variables):
    """``dist_env_from_launcher(launcher)`` in an environment holding exactly ``variables`` of
    the launchers' variables."""
    with monkeypatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(LAUNCHER_VARIABLES):
                patch.delenv(name)
        for name, value in variables.items():
            patch.setenv(name, value)
        return dist_env_from_launcher(launcher)


def test_dist_env_is_read_from_each_launchers_variables(monkeypatch):
    torchrun = _dist_env(monkeypatch, 'pytorch', {
        'RANK': '3', 'WORLD_SIZE': '4', 'LOCAL_RANK': '1', 'MASTER_ADDR': '10.0.0.1',
        'MASTER_PORT': '1234'})
    assert (torchrun.rank, torchrun.world_size, torchrun.local_rank) == (3, 4, 1)
    mpi = _dist_env(monkeypatch, 'mpi', {
        'OMPI_COMM_WORLD_RANK': '1', 'OMPI_COMM_WORLD_SIZE': '2',
        'OMPI_COMM_WORLD_LOCAL_RANK': '1'})
    assert (mpi.rank, mpi.world_size, mpi.master_addr, mpi.master_port) == \
        (1, 2, '127.0.0.1', '29500')
    slurm = _dist_env(monkeypatch, 'slurm', {
        'SLURM_PROCID': '5', 'SLURM_NTASKS': '8', 'SLURM_LOCALID': '1',
        'MASTER_ADDR': 'node7'})
    assert (slurm.rank, slurm.world_size, slurm.local_rank, slurm.master_addr) == \
        (5, 8, 1, 'node7')
    with pytest.raises(KeyError, match='WORLD_SIZE'):
        _dist_env(monkeypatch, 'pytorch', {'RANK': '0'})


FREEZE_HOOK = '''
import os
import time

from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class FreezeRankOneHook(Hook):
    """Rank 1 stops answering (sleeps) before its second iteration; rank 0 goes on."""

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == 1 and runner.rank == 1:
            open(os.environ['FROZEN_MARKER'], 'w').close()
            time.sleep(3600)
'''


def test_a_frozen_rank_ends_the_job_after_the_collective_timeout(tiny_job, tmp_path):
    """The default collective timeout is 300 s; here 10 s through env_cfg.dist_cfg.timeout."""
    import time
    _, config = tiny_job
    (tmp_path / 'freeze_rank_one.py').write_text(FREEZE_HOOK)
    cfg = Config.fromfile(config)
    cfg.custom_imports = dict(imports=['freeze_rank_one'], allow_failed_imports=False)
    cfg.custom_hooks = [dict(type='FreezeRankOneHook')]
    cfg.train_cfg.max_iters = 4
    frozen_config = str(tmp_path / 'frozen.py')
    cfg.dump(frozen_config)
    marker = tmp_path / 'frozen'
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()),
               PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get('PYTHONPATH', '')]),
               FROZEN_MARKER=str(marker))
    start = time.monotonic()
    result = subprocess.run(
        ['bash', osp.join(TOOLS, 'dist_train.sh'), frozen_config, '2', '--work-dir',
         str(tmp_path / 'work'), '--cfg-options', 'env_cfg.dist_cfg.timeout=10'],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - start
    assert marker.exists(), result.stdout[-4000:]  # rank 1 did freeze
    assert result.returncode != 0
    assert elapsed < 180, f'the job took {elapsed:.0f} s to end'
    assert re.search(r'[Tt]imed? ?out|timeout', result.stdout), result.stdout[-4000:]


def test_distributed_runs_default_to_a_short_collective_timeout(tiny_job):
    from mmsofteq.utils.distributed import DEFAULT_COLLECTIVE_TIMEOUT_S, set_collective_timeout
    _, config = tiny_job
    cfg = Config.fromfile(config)
    cfg.env_cfg = dict(dist_cfg=dict(backend='nccl'))
    assert set_collective_timeout(cfg) == DEFAULT_COLLECTIVE_TIMEOUT_S
    assert cfg.env_cfg.dist_cfg == dict(backend='nccl', timeout=DEFAULT_COLLECTIVE_TIMEOUT_S)
    cfg.env_cfg.dist_cfg.timeout = 60
    assert set_collective_timeout(cfg) == 60
    for bad in ('5', 0, -1, True):
        cfg.env_cfg.dist_cfg.timeout = bad
        with pytest.raises(ValueError, match='positive number of seconds'):
            set_collective_timeout(cfg)
