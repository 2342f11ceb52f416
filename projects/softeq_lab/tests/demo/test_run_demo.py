"""softeq_lab.demo.run_demo end to end: real demo data, mmengine's Runner, the demo configs
themselves (only data size and schedules shrunk): pretraining, the Base and SoftEq twins
fine-tuned from it, the rotated loop and metric, the side-by-side table, the PNG."""
from importlib import import_module
import json
import math
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from PIL import Image

pytestmark = pytest.mark.slow  # real Runner / subprocess runs

SEG_KEYS = ('mIoU', 'aIoU', 'cIoU', 'eErr')
TINY = ['--num-train', '8', '--num-val', '2', '--pretrain-iters', '4', '--finetune-iters', '2',
        '--num-images', '2']


def _run(args, cwd):
    env = dict(os.environ, MPLBACKEND='Agg')
    result = subprocess.run([sys.executable, '-m', 'softeq_lab.demo.run_demo', *args], cwd=cwd,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            timeout=600, stdin=subprocess.DEVNULL)
    return result.returncode, result.stdout


def _table(output):
    """``{stage: row dict}`` of the table run_demo prints."""
    lines = [line[len('[demo] '):] for line in output.splitlines()
             if line.startswith('[demo] ')]
    header = next(i for i, line in enumerate(lines) if line.split()[:3] == ['stage', 'model',
                                                                            'softness'])
    columns = lines[header].split()
    rows = {}
    for line in lines[header + 1:header + 4]:
        cells = re.split(r'\s{2,}', line.strip())
        rows[cells[0]] = dict(zip(columns, cells))
    return rows


def _results(work_dir):
    with open(osp.join(work_dir, 'demo_results.json'), encoding='utf-8') as file:
        return json.load(file)


@pytest.fixture(scope='module')
def demo_run(tmp_path_factory):
    """4 pretraining + 2 fine-tuning iterations on 8 train / 2 val generated images."""
    tmp = tmp_path_factory.mktemp('run_demo')
    code, output = _run(['--data-root', str(tmp / 'demo_voc'), '--work-dir', str(tmp / 'work'),
                         *TINY], cwd=tmp)
    assert code == 0, output[-6000:]
    return tmp, output


def test_the_twins_start_from_the_pretraining_and_are_compared_side_by_side(demo_run):
    tmp, output = demo_run
    work = tmp / 'work'
    rows = _table(output)
    assert list(rows) == ['pretrain', 'base', 'softeq']
    assert rows['base']['softness'] == '1' and rows['softeq']['softness'] == '0.8'
    results = _results(work)
    for stage in rows:
        metrics = results['stages'][stage]['metrics']
        for key in SEG_KEYS:
            assert math.isfinite(metrics[key]) and f'{metrics[key]:.2f}' == rows[stage][key]
        assert math.isclose(metrics['cIoU'], math.sqrt(metrics['mIoU'] * metrics['aIoU']),
                            rel_tol=1e-3, abs_tol=0.01)
    # the data were made where asked, with the asked counts
    with open(tmp / 'demo_voc' / 'ImageSets' / 'Segmentation' / 'val.txt') as file:
        assert len(file.read().split()) == 2
    # both twins loaded the pretraining checkpoint, and trained 2 iterations from it
    pretrain = results['stages']['pretrain']['checkpoint']
    assert osp.basename(pretrain) == 'iter_4.pth'
    for twin in ('base', 'softeq'):
        checkpoint = results['stages'][twin]['checkpoint']
        assert osp.basename(checkpoint) == 'iter_2.pth'
        logs = [osp.join(root, name) for root, _, names in os.walk(work / twin)
                for name in names if name.endswith('.log')]
        assert any(f'Load checkpoint from {pretrain}' in open(log).read() for log in logs)
    base = torch.load(results['stages']['base']['checkpoint'], weights_only=False)
    softeq = torch.load(results['stages']['softeq']['checkpoint'], weights_only=False)
    assert list(base['state_dict']) == list(softeq['state_dict'])  # θ under the base keys
    assert results['stages']['softeq']['projection']['projected_tensors'] > 0
    assert results['stages']['base']['projection']['projected_tensors'] == 0
    with open(work / 'demo_results.md', encoding='utf-8') as file:
        header = file.readline()
    assert [cell.strip() for cell in header.strip().strip('|').split('|')] == [
        'stage', 'model', 'softness', 'mIoU', 'aIoU', 'cIoU', 'eErr', 'flip']
    with Image.open(results['figure']['path']) as figure:
        assert figure.format == 'PNG' and min(figure.size) > 200


def test_the_difference_row_is_paired_over_the_same_images(demo_run):
    """SoftEq − Base: the metrics' own difference (eErr, flip: means of per-image terms, so
    the paired mean equals the difference of the twins' metrics; mIoU/aIoU: the point
    estimate of the paired bootstrap is the difference of the dataset scores), each with a
    standard error, from per_image.json files that hold the same images in the same order."""
    tmp, output = demo_run
    results = _results(tmp / 'work')
    differences = results['differences']
    metrics = {stage: results['stages'][stage]['metrics'] for stage in ('base', 'softeq')}
    for key in ('mIoU', 'aIoU', 'eErr', 'flip'):
        value, error = differences[key]
        assert value == pytest.approx(metrics['softeq'][key] - metrics['base'][key],
                                      abs=0.01 if key in ('mIoU', 'aIoU') else 1e-6)
        assert error >= 0
    records = [json.load(open(tmp / 'work' / twin / 'per_image.json'))
               for twin in ('base', 'softeq')]
    assert [r['index'] for r in records[0]] == [r['index'] for r in records[1]] == [0, 1]
    row = next(line for line in output.splitlines() if 'SoftEq − Base' in line)
    assert re.search(r'[+-]\d+\.\d\d ± \d+\.\d\d', row)


def test_figure_rows_are_the_same_images_for_both_twins_and_average_to_eerr(demo_run):
    """Every val image is drawn once per twin; each twin's eErr terms (from the maps shown)
    average to its metric's eErr: the map is the metric's summand."""
    tmp, _ = demo_run
    results = _results(tmp / 'work')
    rows = results['figure']['rows']
    assert [row['stage'] for row in rows] == ['Base', 'SoftEq s=0.8'] * 2
    assert rows[0]['image'] == rows[1]['image'] and rows[0]['angle'] == rows[1]['angle']
    for label, stage in (('Base', 'base'), ('SoftEq s=0.8', 'softeq')):
        terms = [row['eErr'] for row in rows if row['stage'] == label]
        assert math.isclose(sum(terms) / len(terms),
                            results['stages'][stage]['metrics']['eErr'], rel_tol=1e-4,
                            abs_tol=1e-6)


def test_a_second_run_reuses_the_stages_and_a_fresh_one_repeats_the_numbers(demo_run):
    tmp, output = demo_run
    code, again = _run(['--data-root', str(tmp / 'demo_voc'), '--work-dir', str(tmp / 'work'),
                        *TINY], cwd=tmp)
    assert code == 0, again[-6000:]
    assert again.count(': reused in ') == 3 and 'already generated' in again
    assert _table(again) == _table(output)
    code, fresh = _run(['--data-root', str(tmp / 'demo_voc'), '--work-dir',
                        str(tmp / 'fresh'), *TINY], cwd=tmp)
    assert code == 0, fresh[-6000:]
    assert fresh.count(': done in ') == 3
    assert _table(fresh) == _table(output)  # deterministic on the same machine
    # another softness in the same work dir: only the SoftEq twin runs again
    code, other = _run(['--data-root', str(tmp / 'demo_voc'), '--work-dir', str(tmp / 'fresh'),
                        *TINY, '--softness', '0.5'], cwd=tmp)
    assert code == 0, other[-6000:]
    assert other.count(': reused in ') == 2 and other.count(': done in ') == 1
    assert 'softeq: ' in other and 'starting this stage over' in other
    rows = _table(other)
    assert rows['softeq']['softness'] == '0.5' and rows['base'] == _table(output)['base']


@pytest.mark.parametrize('argv, message', [
    (['--max-epochs', '2'], '--max-epochs does not apply to --task seg'),
    (['--task', 'cls', '--finetune-iters', '2'], 'does not apply to --task cls'),
    (['--pretrain-iters', '0'], 'must be >= 1'),
    (['--softness', '1.5'], 'must be in [0, 1]'),
])
def test_bad_arguments_are_refused_with_a_message(argv, message, capsys):
    tool = import_module('softeq_lab.demo.run_demo')
    with pytest.raises(SystemExit) as exit_info:
        tool.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_refuses_to_write_demo_data_over_a_real_voc_tree(tmp_path):
    real = tmp_path / 'VOCdevkit' / 'VOC2012'
    (real / 'JPEGImages').mkdir(parents=True)
    (real / 'JPEGImages' / '2007_000027.jpg').write_bytes(b'not ours')
    tool = import_module('softeq_lab.demo.run_demo')
    with pytest.raises(SystemExit) as exit_info:
        tool.main(['--data-root', str(tmp_path / 'VOCdevkit'), '--work-dir',
                   str(tmp_path / 'work')])
    assert 'cannot make the demo data' in str(exit_info.value)
    assert sorted(os.listdir(real)) == ['JPEGImages']
    assert not (tmp_path / 'work').exists()
