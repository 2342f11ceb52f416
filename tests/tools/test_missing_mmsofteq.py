"""The front-door tools and every command of the experiments project say how to install
mmsofteq when it is not importable, instead of a traceback from deep inside an import (the
editable install is their contract: nothing edits ``sys.path``)."""
import os.path as osp
import subprocess
import sys

import pytest
from fixtures.tools import REPO, TOOLS

#: The front-door tools (one guard, ``tools/require_mmsofteq.py``, imported before torch) and
#: every command of the experiments project (its package's ``__init__`` is the guard).
ENTRY_POINTS = ['train.py', 'test.py', 'export_checkpoint.py']
PROJECT_COMMANDS = [f'softeq_lab.{name}' for name in (
    'certificates.certificate_report', 'demo.run_demo', 'digits.make_demo_data',
    'filters.visualize_filters', 'paper.compare_paper', 'paper.strict_invariance',
    'sweeps.asymmetry_vs_softness', 'sweeps.multi_seed', 'sweeps.softness_sweep',
    'tunability.baselines_digits', 'tunability.tunability_digits')]
# mmsofteq made unimportable (a None entry in sys.modules makes `import mmsofteq` raise
# ImportError), then the tool run as a script with its folder first on sys.path, or the
# project command as `python -m` runs it.
RUN_WITHOUT_MMSOFTEQ = """
import runpy, sys
sys.modules['mmsofteq'] = None
sys.path.insert(0, sys.argv[1].rsplit('/', 1)[0])
sys.argv = [sys.argv[1], '--help']
runpy.run_path(sys.argv[0], run_name='__main__')
"""
RUN_MODULE_WITHOUT_MMSOFTEQ = """
import runpy, sys
sys.modules['mmsofteq'] = None
module = sys.argv[1]
sys.argv = [module, '--help']
runpy.run_module(module, run_name='__main__', alter_sys=True)
"""


def _says_how_to_install(result):
    assert result.returncode == 1, (result.stdout[-2000:], result.stderr[-2000:])
    assert 'install mmsofteq first (make env, or pip install -e .)' in result.stderr
    assert 'Traceback' not in result.stderr


@pytest.mark.parametrize('tool', ENTRY_POINTS)
def test_tool_without_mmsofteq_says_how_to_install_it(tool):
    path = osp.join(TOOLS, tool)
    result = subprocess.run([sys.executable, '-c', RUN_WITHOUT_MMSOFTEQ, path], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    _says_how_to_install(result)


@pytest.mark.parametrize('module', PROJECT_COMMANDS)
def test_project_command_without_mmsofteq_says_how_to_install_it(module):
    result = subprocess.run([sys.executable, '-c', RUN_MODULE_WITHOUT_MMSOFTEQ, module],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    _says_how_to_install(result)
