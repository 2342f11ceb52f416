"""Every command of the project says how to install mmsofteq when it is not importable (the
package's ``__init__`` is the guard), instead of a traceback from deep inside an import."""
import subprocess
import sys

import pytest

PROJECT_COMMANDS = [f'softeq_lab.{name}' for name in (
    'certificates.certificate_report', 'demo.run_demo', 'digits.make_demo_data',
    'filters.visualize_filters', 'paper.compare_paper', 'paper.strict_invariance',
    'sweeps.asymmetry_vs_softness', 'sweeps.multi_seed', 'sweeps.softness_sweep',
    'tunability.baselines_digits', 'tunability.tunability_digits')]
# mmsofteq made unimportable (a None entry in sys.modules makes `import mmsofteq` raise
# ImportError), then the command run as `python -m` runs it.
RUN_MODULE_WITHOUT_MMSOFTEQ = """
import runpy, sys
sys.modules['mmsofteq'] = None
module = sys.argv[1]
sys.argv = [module, '--help']
runpy.run_module(module, run_name='__main__', alter_sys=True)
"""


@pytest.mark.parametrize('module', PROJECT_COMMANDS)
def test_project_command_without_mmsofteq_says_how_to_install_it(module):
    result = subprocess.run([sys.executable, '-c', RUN_MODULE_WITHOUT_MMSOFTEQ, module],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, (result.stdout[-2000:], result.stderr[-2000:])
    assert 'install mmsofteq first (make env, or pip install -e .)' in result.stderr
    assert 'Traceback' not in result.stderr
