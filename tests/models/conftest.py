"""Put ``tests/`` (shared ``fixtures``) and ``tests/nn`` (``softeq_tiny``) on ``sys.path``."""
import os.path as osp
import sys

_TESTS = osp.dirname(osp.dirname(osp.abspath(__file__)))
for _path in (_TESTS, osp.join(_TESTS, 'nn')):
    if _path not in sys.path:
        sys.path.insert(0, _path)
