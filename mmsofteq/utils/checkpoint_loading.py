"""Load mmengine checkpoints under torch >= 2.6 without giving up safe unpickling.

Since torch 2.6, ``torch.load`` defaults to ``weights_only=True``: its unpickler builds only
tensors, containers and an allow-list of globals. mmengine 0.10.7 calls ``torch.load`` without
``weights_only``, and its checkpoints hold more than tensors, so ``runner.resume()`` /
``tools/train.py --resume`` fail with ``UnpicklingError: Weights only load failed``.

:func:`enable_safe_checkpoint_loading` (called when ``mmsofteq`` is imported) fixes that by
allow-listing, with ``torch.serialization.add_safe_globals``, exactly the globals that mmengine,
mmseg and mmpretrain training checkpoints contain. They were found empirically with
``torch.serialization.get_unsafe_globals_in_checkpoint`` on checkpoints written by the real
``Runner`` (``tests/compat`` re-checks this on every run):

==========================================  ===============================================
global in the pickle                        where it comes from
==========================================  ===============================================
``mmengine.logging.history_buffer.          ``message_hub.log_scalars`` (the logged losses,
HistoryBuffer``                             lr, times)
``numpy._core.multiarray._reconstruct``,    ``HistoryBuffer._log_history`` /
``numpy.ndarray``, ``numpy.dtype``          ``_count_history`` arrays
``numpy._core.multiarray.scalar``           numpy scalars (e.g. a metric in ``runtime_info``)
``numpy.dtypes.*DType``                     the dtype instances' classes (numpy >= 1.25
                                            builds them during unpickling)
``builtins.getattr``                        ``HistoryBuffer`` pickles its statistics methods
                                            as ``getattr(HistoryBuffer, 'mean')`` etc.
==========================================  ===============================================

``builtins.getattr`` is *not* allow-listed: under that name we register
:func:`_restricted_getattr`, which only returns public plain functions defined on
``HistoryBuffer`` and raises ``UnpicklingError`` for anything else, so a checkpoint cannot use
it to reach arbitrary attributes. numpy 1.x names (``numpy.core.multiarray.*``) are registered
too, so checkpoints written with numpy 1.x load under numpy 2.x. Every other global is still
refused.

Opt-in for trusted files: with the environment variable ``MMSOFTEQ_TRUST_CHECKPOINTS=1`` (read
at every load), or inside ``with trusted_checkpoint_loading():``, the loads that go through
mmengine's ``CheckpointLoader`` (``Runner.resume``, ``Runner.load_checkpoint``, ``load_from``,
``init_cfg=dict(type='Pretrained')``, ``mmengine.runner.load_checkpoint``) use
``weights_only=False``, i.e. full pickle, which can execute arbitrary code: use it only for
checkpoints you produced or trust. Direct ``torch.load`` calls elsewhere are not affected.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import os
import pickle
import threading
import warnings
from typing import Any, Callable, Iterator, List, Tuple, Union

import numpy as np
import torch

TRUST_ENV_VAR = 'MMSOFTEQ_TRUST_CHECKPOINTS'
_TRUE_VALUES = ('1', 'true', 'yes', 'y', 'on')
_TORCH_FORCE_SAFE = 'TORCH_FORCE_WEIGHTS_ONLY_LOAD'
_TORCH_FORCE_UNSAFE = 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'

SafeGlobal = Union[Callable, Tuple[Callable, str]]

_lock = threading.RLock()
_trust_depth = 0  # > 0 inside ``trusted_checkpoint_loading()``
_enabled = False


def _getattr_owners() -> tuple:
    from mmengine.logging.history_buffer import HistoryBuffer
    return (HistoryBuffer, )


def _restricted_getattr(obj: Any, name: str) -> Any:
    """``getattr`` as the weights-only unpickler may call it: public functions of an owner.

    mmengine's ``HistoryBuffer`` pickles its ``_statistics_methods`` (``HistoryBuffer.min``,
    ``.max``, ``.mean``, ``.current``) as ``getattr(HistoryBuffer, name)``. Only that form is
    accepted: ``obj`` must be one of the allow-listed owner classes, and ``name`` a public
    plain function defined in its class body.
    """
    if not isinstance(name, str):
        raise pickle.UnpicklingError(f'getattr with a non-string name {name!r} is not allowed')
    if any(obj is owner for owner in _getattr_owners()):
        value = vars(obj).get(name)
        if not name.startswith('_') and inspect.isfunction(value):
            return value
    raise pickle.UnpicklingError(
        f'getattr({getattr(obj, "__qualname__", type(obj).__name__)}, {name!r}) is not allowed '
        'by mmsofteq\'s checkpoint allow-list (only public functions of mmengine\'s '
        'HistoryBuffer are). If you trust this file, set '
        f'{TRUST_ENV_VAR}=1 to load it with weights_only=False.')


def _numpy_core():
    """numpy's ``multiarray`` module under both its numpy 2 and numpy 1 import paths."""
    try:
        from numpy._core import multiarray  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray
    return multiarray


def mmengine_safe_globals() -> List[SafeGlobal]:
    """The allow-list installed by :func:`enable_safe_checkpoint_loading` (see module doc)."""
    from mmengine.logging.history_buffer import HistoryBuffer

    multiarray = _numpy_core()
    safe: List[SafeGlobal] = [HistoryBuffer, np.ndarray, np.dtype]
    for name in ('_reconstruct', 'scalar'):
        function = getattr(multiarray, name)
        safe.append((function, f'numpy._core.multiarray.{name}'))
        safe.append((function, f'numpy.core.multiarray.{name}'))
    dtypes = getattr(np, 'dtypes', None)  # numpy >= 1.25
    if dtypes is not None:
        safe.extend(getattr(dtypes, name) for name in sorted(dir(dtypes))
                    if name.endswith('DType') and isinstance(getattr(dtypes, name), type))
    safe.append((_restricted_getattr, 'builtins.getattr'))
    return safe


def trust_checkpoints_enabled() -> bool:
    """Whether mmengine's checkpoint loads currently use ``weights_only=False``."""
    return _trust_depth > 0 or os.environ.get(TRUST_ENV_VAR, '').strip().lower() in _TRUE_VALUES


@contextlib.contextmanager
def trusted_checkpoint_loading() -> Iterator[None]:
    """Within the block, mmengine's ``CheckpointLoader`` loads with ``weights_only=False``.

    Full unpickling can execute code stored in the file: only for checkpoints you trust.
    """
    global _trust_depth
    with _lock:
        _trust_depth += 1
    try:
        yield
    finally:
        with _lock:
            _trust_depth -= 1


@contextlib.contextmanager
def _torch_load_defaults_to_full_pickle() -> Iterator[None]:
    """Make ``torch.load`` calls that do not pass ``weights_only`` use ``weights_only=False``.

    torch reads ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` at every call; calls that pass
    ``weights_only`` explicitly keep their choice. The variable is restored on exit.
    """
    with _lock:
        previous = os.environ.get(_TORCH_FORCE_UNSAFE)
        os.environ[_TORCH_FORCE_UNSAFE] = '1'
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings('ignore', message='Environment variable '
                                        'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected')
                yield
        finally:
            if previous is None:
                os.environ.pop(_TORCH_FORCE_UNSAFE, None)
            else:
                os.environ[_TORCH_FORCE_UNSAFE] = previous


def _log(message: str, level: int) -> None:
    from mmengine.logging import print_log
    print_log(message, logger='current', level=level)


def _wrap_checkpoint_loader(load_checkpoint: Callable) -> Callable:
    """Wrap ``CheckpointLoader.load_checkpoint`` (the function under the classmethod)."""

    @functools.wraps(load_checkpoint)
    def load_checkpoint_with_policy(cls, filename, map_location=None, logger='current'):
        if trust_checkpoints_enabled():
            if os.environ.get(_TORCH_FORCE_SAFE, '').strip().lower() in _TRUE_VALUES:
                raise RuntimeError(f'{TRUST_ENV_VAR} asks for weights_only=False but '
                                   f'{_TORCH_FORCE_SAFE} forces weights_only=True; unset one.')
            _log(f'{TRUST_ENV_VAR}: loading {filename} with weights_only=False (full pickle)',
                 logging.WARNING)
            with _torch_load_defaults_to_full_pickle():
                return load_checkpoint(cls, filename, map_location, logger)
        try:
            return load_checkpoint(cls, filename, map_location, logger)
        except pickle.UnpicklingError as error:
            raise pickle.UnpicklingError(
                f'{error}\n\nmmsofteq: {filename} holds a global outside the allow-list for '
                'mmengine checkpoints (mmsofteq.compat.mmengine_safe_globals()). If you trust '
                f'the file, set {TRUST_ENV_VAR}=1 to load it with weights_only=False, or '
                'allow-list the type with torch.serialization.add_safe_globals([...]).'
            ) from error

    load_checkpoint_with_policy.__mmsofteq_wrapped__ = True
    return load_checkpoint_with_policy


def enable_safe_checkpoint_loading() -> None:
    """Allow-list mmengine's checkpoint globals and install the trust opt-in. Idempotent.

    Does nothing on torch without ``add_safe_globals`` (< 2.4), where ``torch.load`` still
    defaults to full unpickling.
    """
    global _enabled
    with _lock:
        if _enabled:
            return
        if not hasattr(torch.serialization, 'add_safe_globals'):  # pragma: no cover
            _enabled = True
            return
        from mmengine.runner.checkpoint import CheckpointLoader

        torch.serialization.add_safe_globals(mmengine_safe_globals())
        original = inspect.getattr_static(CheckpointLoader, 'load_checkpoint').__func__
        if not getattr(original, '__mmsofteq_wrapped__', False):
            CheckpointLoader.load_checkpoint = classmethod(_wrap_checkpoint_loader(original))
        _enabled = True
