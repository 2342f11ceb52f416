"""tools/benchmarks/gpu_check.sh at CPU test size: the command the GPU machine runs, end to end
(installs and the mmcv build are skipped because the packages import; ``--tiny``: 64 px
inputs, narrow ViTs, 2 iterations), so a GPU session spends its minutes on measuring."""
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

pytestmark = pytest.mark.slow  # six real Runner runs, torchrun, pytest


def test_gpu_check_runs_at_cpu_size_and_writes_its_table(tmp_path):
    env = dict(os.environ, OUT=str(tmp_path), PYTHON=sys.executable, OMP_NUM_THREADS='1')
    result = subprocess.run(['bash', os.path.join(REPO, 'tools/benchmarks/gpu_check.sh'), 'run',
                             '--tiny'], env=env, cwd=REPO, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = (tmp_path / 'gpu_check.md').read_text()
    rows = [line for line in report.splitlines() if line.startswith('| ')]
    for model in ('ViT-B/16, 224 px', 'DINOv2-B/14, 512 px', 'SegFormer-B0, 512 px'):
        assert sum(line.startswith(f'| {model} |') for line in rows) == 3  # base, softeq, ratio
    assert 'install (wheels)=' in report and 'mmcv 2.1.0 build' in report
    assert "launcher path (torchrun, 1 process, backend='gloo'" in report and ': rc 0 in' in report
    assert 'tests/engine/test_softeq_amp.py:' in report and 'skipped' in report  # no CUDA here
    for case in ('vit', 'dinov2', 'segformer'):
        for variant in ('base', 'softeq'):
            assert (tmp_path / 'configs' / f'{case}_{variant}.py').is_file()
