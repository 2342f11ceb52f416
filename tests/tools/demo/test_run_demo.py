"""tools/demo/run_demo.py end to end: real demo data, mmengine's Runner, SegFormer-B0 (the demo
config itself, only data size and schedule shrunk), the rotated loop and metric, the PNG."""
import json
import math
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from fixtures.tools import TOOLS, load_tool
from PIL import Image

pytestmark = pytest.mark.slow  # real Runner / subprocess runs

RUN_DEMO = osp.join(TOOLS, 'demo', 'run_demo.py')
SEG_KEYS = ('mIoU', 'aIoU', 'cIoU', 'eErr')


def _run(args, cwd):
    env = dict(os.environ, MPLBACKEND='Agg')
    result = subprocess.run([sys.executable, RUN_DEMO, *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            timeout=600, stdin=subprocess.DEVNULL)
    return result.returncode, result.stdout


def _reported(output):
    """Paths and metrics from the summary run_demo prints."""
    paths = dict(re.findall(r'^\[demo\] (log|checkpoint|figure|metrics): +(\S.*)$', output,
                            re.MULTILINE))
    metrics = {key: float(value) for key, value in
               re.findall(r'^\[demo\]   (\w+) +(\S+)$', output, re.MULTILINE)}
    return paths, metrics


def _load_tool():
    return load_tool('demo/run_demo.py')


@pytest.fixture(scope='module')
def demo_run(tmp_path_factory):
    """4 iterations on 8 train / 2 val generated images, run from another directory."""
    tmp = tmp_path_factory.mktemp('run_demo')
    args = ['--data-root', str(tmp / 'demo_voc'), '--num-train', '8', '--num-val', '2',
            '--max-iters', '4', '--work-dir', str(tmp / 'work'), '--num-images', '2']
    code, output = _run(args, cwd=tmp)
    assert code == 0, output[-6000:]
    return tmp, output


def test_run_demo_trains_evaluates_and_reports_its_files(demo_run):
    tmp, output = demo_run
    paths, metrics = _reported(output)
    assert set(paths) == {'log', 'checkpoint', 'figure', 'metrics'}, output[-3000:]
    # the data were made where asked, with the asked counts
    with open(tmp / 'demo_voc' / 'ImageSets' / 'Segmentation' / 'val.txt') as file:
        assert len(file.read().split()) == 2
    # the schedule was shrunk to 4 iterations and the checkpoint is the 4th iteration's
    assert osp.basename(paths['checkpoint']) == 'iter_4.pth'
    checkpoint = torch.load(paths['checkpoint'], map_location='cpu', weights_only=False)
    assert checkpoint['meta']['iter'] == 4
    # theta under the base model's keys (soft-equivariant SegFormer-B0, 11 classes)
    assert checkpoint['state_dict']['backbone.layers.0.0.projection.weight'].shape == \
        (32, 3, 7, 7)
    assert checkpoint['state_dict']['decode_head.conv_seg.weight'].shape[0] == 11
    with open(paths['log'], encoding='utf-8') as file:
        log = file.read()
    assert 'Saving checkpoint at 4 iterations' in log
    assert 'eErr' in log and 'aIoU' in log
    # the metrics are those of the rotated metric, finite, and the ones written to json
    for key in SEG_KEYS:
        assert math.isfinite(metrics[key]), metrics
    assert 0.0 <= metrics['mIoU'] <= 100.0 and metrics['eErr'] >= 0.0
    assert math.isclose(metrics['cIoU'], math.sqrt(metrics['mIoU'] * metrics['aIoU']),
                        rel_tol=1e-3, abs_tol=0.01)
    with open(paths['metrics'], encoding='utf-8') as file:
        written = json.load(file)
    for key, value in metrics.items():
        assert abs(written['metrics'][key] - value) <= 0.005 + 1e-9
    with Image.open(paths['figure']) as figure:
        assert figure.format == 'PNG' and min(figure.size) > 200


def test_figure_eerr_terms_average_to_the_metric(demo_run):
    """With every val image drawn, the PNG's per-image eErr terms (computed from the maps it
    shows) average to the metric's eErr: the map is the metric's summand."""
    tmp, output = demo_run
    paths, _ = _reported(output)
    with open(paths['metrics'], encoding='utf-8') as file:
        written = json.load(file)
    rows = written['figure']['rows']
    assert len(rows) == 2 and all(-30.0 <= row['angle'] <= 30.0 for row in rows)
    mean = sum(row['eErr'] for row in rows) / len(rows)
    assert math.isclose(mean, written['metrics']['eErr'], rel_tol=1e-4, abs_tol=1e-6)


def test_skip_train_reevaluates_the_checkpoint_to_the_same_metrics(demo_run):
    tmp, output = demo_run
    paths, metrics = _reported(output)
    code, again = _run(['--skip-train', '--checkpoint', paths['checkpoint'], '--data-root',
                        str(tmp / 'demo_voc'), '--num-train', '8', '--num-val', '2',
                        '--work-dir', str(tmp / 'eval'), '--num-images', '1'], cwd=tmp)
    assert code == 0, again[-6000:]
    assert 'data ' in again and 'already generated' in again
    new_paths, new_metrics = _reported(again)
    assert new_paths['checkpoint'] == paths['checkpoint']
    assert not osp.exists(tmp / 'eval' / 'iter_4.pth')  # nothing trained
    for key in SEG_KEYS:
        assert math.isclose(new_metrics[key], metrics[key], abs_tol=0.011), (key, metrics,
                                                                               new_metrics)


@pytest.mark.parametrize('argv, message', [
    (['--skip-train'], '--skip-train needs --checkpoint'),
    (['--checkpoint', 'ckpt.pth'], '--checkpoint is only used with --skip-train'),
    (['--max-epochs', '2'], 'does not apply to --task seg'),
    (['--max-iters', '0'], 'must be >= 1'),
    (['--max-iters', '3', '--skip-train', '--checkpoint', 'x.pth'], 'no sense with'),
])
def test_bad_arguments_are_refused_with_a_message(argv, message, capsys):
    tool = _load_tool()
    with pytest.raises(SystemExit) as exit_info:
        tool.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize('argv, message', [
    (['--skip-train', '--checkpoint', '/nonexistent/ckpt.pth'], 'checkpoint not found'),
    (['--config', '/nonexistent/config.py'], 'config not found'),
])
def test_missing_files_stop_before_any_work(argv, message, tmp_path):
    tool = _load_tool()
    with pytest.raises(SystemExit, match=message):
        tool.main(argv + ['--data-root', str(tmp_path / 'data'), '--work-dir',
                          str(tmp_path / 'work')])
    assert not (tmp_path / 'data').exists() and not (tmp_path / 'work').exists()


def test_refuses_to_write_demo_data_over_a_real_voc_tree(tmp_path, capsys):
    real = tmp_path / 'VOCdevkit' / 'VOC2012'
    (real / 'JPEGImages').mkdir(parents=True)
    (real / 'JPEGImages' / '2007_000027.jpg').write_bytes(b'not ours')
    tool = _load_tool()
    with pytest.raises(SystemExit) as exit_info:
        tool.main(['--data-root', str(tmp_path / 'VOCdevkit'), '--work-dir',
                   str(tmp_path / 'work')])
    assert 'cannot make the demo data' in str(exit_info.value)
    assert sorted(os.listdir(real)) == ['JPEGImages']
    assert not (tmp_path / 'work').exists()
