"""The front-door tools say how to install mmsofteq when it is not importable, instead of a
traceback from deep inside an import (the editable install is their contract: no tool edits
``sys.path``)."""
import os.path as osp
import subprocess
import sys

import pytest
from fixtures.tools import REPO, TOOLS

#: The front-door tools (one guard, ``tools/require_mmsofteq.py``, imported before torch).
ENTRY_POINTS = ['train.py', 'test.py', 'export_checkpoint.py']
# mmsofteq made unimportable (a None entry in sys.modules makes `import mmsofteq` raise
# ImportError), then the tool run as a script with its folder first on sys.path.
RUN_WITHOUT_MMSOFTEQ = """
import runpy, sys
sys.modules['mmsofteq'] = None
sys.path.insert(0, sys.argv[1].rsplit('/', 1)[0])
sys.argv = [sys.argv[1], '--help']
runpy.run_path(sys.argv[0], run_name='__main__')
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
