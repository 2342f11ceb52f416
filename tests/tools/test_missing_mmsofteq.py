"""Every tool a user runs says how to install mmsofteq when it is not importable, instead of
a traceback from deep inside an import (the editable install is the tools' contract: no tool
edits ``sys.path``)."""
import os.path as osp
import subprocess
import sys

import pytest
from fixtures.tools import REPO, TOOLS

ENTRY_POINTS = ['train.py', 'test.py', 'export_checkpoint.py'] + [
    f'analysis_tools/{name}.py' for name in (
        'baselines_digits', 'certificate_report', 'compare_paper', 'multi_seed',
        'print_projection_report', 'softness_sweep',
        'strict_invariance', 'tunability_digits', 'visualize_filters')] + [
    f'benchmarks/{name}.py' for name in (
        'benchmark_baselines', 'benchmark_rotated_eval', 'benchmark_training')] + [
    'demo/run_demo.py']
# mmsofteq made unimportable (a None entry in sys.modules makes `import mmsofteq` raise
# ImportError), then the tool run as a script with its folder first on sys.path.
RUN_WITHOUT_MMSOFTEQ = """
import runpy, sys
sys.modules['mmsofteq'] = None
sys.path.insert(0, sys.argv[1].rsplit('/', 1)[0])
sys.argv = [sys.argv[1], '--help']
runpy.run_path(sys.argv[0], run_name='__main__')
"""


@pytest.mark.parametrize('tool', ENTRY_POINTS)
def test_tool_without_mmsofteq_says_how_to_install_it(tool):
    path = osp.join(TOOLS, tool)
    result = subprocess.run([sys.executable, '-c', RUN_WITHOUT_MMSOFTEQ, path], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, (result.stdout[-2000:], result.stderr[-2000:])
    assert 'install mmsofteq first (make env, or pip install -e .)' in result.stderr
    assert 'Traceback' not in result.stderr
