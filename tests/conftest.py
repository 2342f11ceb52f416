"""Shared test set-up: markers, the tool folders on ``sys.path`` and session-wide fixtures.

Helpers live in the ``fixtures`` package (``tests/`` is on ``sys.path`` via ``pytest.ini``):
``fixtures`` (tiny VOC data, tiny SegFormer config), ``fixtures.tiny_models`` (tiny real
OpenMMLab models), ``fixtures.tools`` (``load_tool``, ``run_python``),
``fixtures.rotated_eval`` and ``fixtures.config_smoke``.

``@pytest.mark.slow``: runs a real mmengine Runner or a subprocess (seconds to a minute);
``make test`` runs everything, ``make test-fast`` skips them (``-m "not slow"``).
"""
import os
import os.path as osp
import sys

import pytest
from fixtures.tools import TOOL_FOLDERS, TOOLS

os.environ.setdefault('MPLBACKEND', 'Agg')
for _folder in TOOL_FOLDERS:
    _path = osp.join(TOOLS, _folder)
    if _path not in sys.path:
        sys.path.append(_path)



@pytest.fixture(scope='session')
def tiny_voc(tmp_path_factory) -> str:
    """A tiny VOC-layout set (8 images, 32 px, 4 classes), written once per session."""
    from fixtures import make_tiny_voc
    return make_tiny_voc(tmp_path_factory.mktemp('tiny_voc'), num_images=8, size=32,
                         num_classes=4)


@pytest.fixture(scope='session')
def dataset_roots(tmp_path_factory):
    """``{key: data_root}`` of the tiny datasets (see ``fixtures.config_smoke``)."""
    from fixtures.config_smoke import make_dataset_roots
    return make_dataset_roots(str(tmp_path_factory.mktemp('smoke_data')))


@pytest.fixture(autouse=True)
def _keep_torch_threads():
    """Tools run in-process (``load_tool(...).main``) may call ``torch.set_num_threads``;
    restore the count so later tests (and their subprocess comparisons) see the default."""
    import torch

    threads = torch.get_num_threads()
    yield
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
