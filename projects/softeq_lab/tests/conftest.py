"""The plugin's session fixtures (tiny VOC and smoke datasets, torch threads restored), from
``tests/fixtures`` (on ``sys.path`` through the repository's ``pytest.ini``)."""
import os

os.environ.setdefault('MPLBACKEND', 'Agg')

from fixtures.session import _keep_torch_threads, dataset_roots, tiny_voc  # noqa: E402,F401
