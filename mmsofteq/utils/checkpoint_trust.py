"""Whether the current load may use full unpickling: an opt-in scoped to one thread's block.

Full unpickling (``torch.load(..., weights_only=False)``) runs whatever code a checkpoint
stores: it is for files you produced or whose source you trust. Two opt-ins exist, neither of
which changes anything for other threads or other ``torch.load`` calls:

* ``with trusted_checkpoint_loading(): ...`` -- the checkpoint loads mmsofteq performs in
  *this thread* inside the block (a thread-local counter);
* ``MMSOFTEQ_TRUST_CHECKPOINTS=1`` in the environment the job starts with (read, never
  written, at every load) -- every load of the run.
"""
from __future__ import annotations

import contextlib
import os
import threading
from typing import Iterator

TRUST_ENV_VAR = 'MMSOFTEQ_TRUST_CHECKPOINTS'
_TRUE_VALUES = ('1', 'true', 'yes', 'y', 'on')

_scope = threading.local()


def trust_checkpoints_enabled() -> bool:
    """Whether loads in this thread, now, use full unpickling."""
    if getattr(_scope, 'depth', 0) > 0:
        return True
    return os.environ.get(TRUST_ENV_VAR, '').strip().lower() in _TRUE_VALUES


@contextlib.contextmanager
def trusted_checkpoint_loading() -> Iterator[None]:
    """Within the block, this thread's checkpoint loads use ``weights_only=False``.

    Covers every load through mmengine's ``CheckpointLoader`` (``load_from``, ``--resume``,
    ``init_cfg=dict(type='Pretrained')``) and :func:`mmsofteq.utils.load_checkpoint_file`.
    Other threads keep safe loading.
    """
    _scope.depth = getattr(_scope, 'depth', 0) + 1
    try:
        yield
    finally:
        _scope.depth -= 1
