"""Put ``tests/`` (shared ``fixtures``) and ``tests/configs`` (``config_smoke``) on ``sys.path``;
write the tiny datasets once per session."""
import os.path as osp
import sys

import pytest

_HERE = osp.dirname(osp.abspath(__file__))
for _path in (osp.dirname(_HERE), _HERE):
    if _path not in sys.path:
        sys.path.insert(0, _path)


@pytest.fixture(scope='session')
def dataset_roots(tmp_path_factory):
    """``{key: data_root}`` of the tiny datasets (see ``config_smoke.make_dataset_roots``)."""
    from config_smoke import make_dataset_roots
    return make_dataset_roots(str(tmp_path_factory.mktemp('smoke_data')))
