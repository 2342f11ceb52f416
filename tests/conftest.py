"""Shared test set-up: markers and session-wide fixtures (the project tests under
``projects/softeq_lab/tests`` get them from their own ``conftest.py``).

Helpers live in the ``fixtures`` package (``tests/`` is on ``sys.path`` via ``pytest.ini``):
``fixtures`` (tiny VOC data, tiny SegFormer config), ``fixtures.tiny_models`` (tiny real
OpenMMLab models), ``fixtures.tools`` (``load_tool``, ``run_python``),
``fixtures.rotated_eval`` and ``fixtures.config_smoke``.

``@pytest.mark.slow``: runs a real mmengine Runner or a subprocess (seconds to a minute);
``make test`` runs everything, ``make test-fast`` skips them (``-m "not slow"``).
"""
import os

os.environ.setdefault('MPLBACKEND', 'Agg')
# The fixtures every test directory shares (pytest finds them by name in a conftest).
from fixtures.session import _keep_torch_threads, dataset_roots, tiny_voc  # noqa: E402,F401
