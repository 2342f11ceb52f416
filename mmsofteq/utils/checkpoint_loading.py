"""Checkpoint loading that resumes mmengine runs under torch >= 2.6 and cannot be turned
against the user (threat model and details: ``docs/security.md``).

mmengine 0.10.7 loads every checkpoint with a bare ``torch.load``: under torch >= 2.6 that is
weights-only, which refuses mmengine's own training checkpoints (``message_hub`` holds
``HistoryBuffer`` objects with numpy arrays), and for http(s) URLs it goes through
``torch.hub`` with full unpickling. :func:`enable_safe_checkpoint_loading` (run when
``mmsofteq`` is imported) replaces mmengine's local and http(s) checkpoint schemes with
:func:`load_checkpoint_file`, which for every file:

1. checks it is intact and laid out as ``torch.save`` writes it (:mod:`.checkpoint_archive`):
   not empty, a zip archive of stored records whose CRC-32 match, whose ``data.pkl`` torch's
   reader and ``zipfile`` read alike (or a legacy file with nothing appended), otherwise
   :class:`DamagedCheckpointError` / ``MalformedCheckpointError`` with path and size (never
   advice to trust the file);
2. replays its pickle symbolically (:mod:`.checkpoint_scan`): the globals must be torch's
   defaults, the user's ``add_safe_globals`` or mmsofteq's entries, and numpy / ``getattr``
   only in the exact forms mmengine writes, else :class:`UnsafeCheckpointError`;
3. loads it with torch's weights-only unpickler, mmsofteq's entries added *for this thread and
   this call only* (nothing is added to torch's process-wide list: a plain ``torch.load``
   elsewhere, in this or another thread, keeps torch's defaults);
4. moves out the config texts mmengine would execute -- ``meta['config']`` (run by
   ``Runner.resume``), ``meta['cfg']`` and ``message_hub['runtime_info']['cfg']`` (run by
   mmengine's inferencers given weights only) -- into ``meta['untrusted_config_text']`` as
   plain strings; ``meta['config']`` keeps only a literal ``gpu_ids`` (the one value resume
   reads).

http(s) URLs are downloaded into a cache keyed by the whole URL and verified
(:mod:`.checkpoint_download`; rank 0 first) and loaded the same way.
Trusted loads (:mod:`.checkpoint_trust`) skip steps 2-4 and use ``weights_only=False``.
"""
from __future__ import annotations

import ast
import contextlib
import inspect
import logging
import os
import pickle
import threading
from typing import Any, Callable, Dict, Iterator, Optional

import numpy as np
import torch
import torch._weights_only_unpickler as weights_only_unpickler

from .checkpoint_archive import open_checkpoint
from .checkpoint_download import download_checkpoint
from .checkpoint_errors import DamagedCheckpointError, UnsafeCheckpointError
from .checkpoint_scan import (DTYPE, GETATTR, HISTORY_BUFFER, NDARRAY, NUMPY_CODES, RECONSTRUCT,
                              SCALAR, scan_legacy_file, scan_pickle)
from .checkpoint_trust import trust_checkpoints_enabled

_TORCH_FORCE_SAFE = 'TORCH_FORCE_WEIGHTS_ONLY_LOAD'
UNTRUSTED_CONFIG_KEY = 'untrusted_config_text'

_lock = threading.Lock()
_enabled = False
_allowed_here = threading.local()  # .globals: name -> object, only during one of our loads
_torch_user_allowed_globals: Optional[Callable[[], Dict[str, Any]]] = None


# ---- mmsofteq's allow-list ------------------------------------------------------------------
def _restricted_getattr(obj: Any, name: str) -> Any:
    """``getattr`` as the weights-only unpickler may call it: public functions of
    mmengine's ``HistoryBuffer`` only (how it pickles its statistics methods)."""
    from mmengine.logging.history_buffer import HistoryBuffer
    value = vars(HistoryBuffer).get(name) if obj is HistoryBuffer else None
    if isinstance(name, str) and not name.startswith('_') and inspect.isfunction(value):
        return value
    raise pickle.UnpicklingError(f'getattr({obj!r}, {name!r}) is not allowed')


def _multiarray():
    try:
        from numpy._core import multiarray  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray
    return multiarray


def mmengine_checkpoint_globals() -> Dict[str, Any]:
    """The globals mmsofteq adds, within its own loads, to torch's weights-only unpickler.

    Returns a dict from the full name the pickle uses to the object it gets:

    ===============================================  =====================================
    name                                             why
    ===============================================  =====================================
    ``mmengine.logging.history_buffer.HistoryBuffer``  ``message_hub.log_scalars``
    ``builtins.getattr`` (restricted)                ``HistoryBuffer`` statistics methods
    ``numpy.ndarray``, ``numpy.dtype``,              ``HistoryBuffer`` arrays, numpy
    ``numpy[._]core.multiarray._reconstruct`` /      scalars in ``runtime_info``
    ``.scalar``
    ``numpy.dtypes.<Type>DType`` for the numeric     the classes of rebuilt dtypes
    codes of ``NUMPY_CODES`` (never named in a       (checked when their state is set)
    pickle; torch checks the type of a rebuilt
    object)
    ===============================================  =====================================

    Every use of them is checked first by :func:`mmsofteq.utils.checkpoint_scan.scan_pickle`.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    multiarray = _multiarray()
    entries: Dict[str, Any] = {HISTORY_BUFFER: HistoryBuffer, GETATTR: _restricted_getattr,
                               NDARRAY: np.ndarray, DTYPE: np.dtype}
    for name in RECONSTRUCT:
        entries[name] = multiarray._reconstruct
    for name in SCALAR:
        entries[name] = multiarray.scalar
    for code in NUMPY_CODES:
        dtype_class = type(np.dtype(code))
        entries[f'numpy.dtypes.{dtype_class.__name__}'] = dtype_class
    return entries


def _user_allowed_globals_in_scope() -> Dict[str, Any]:
    """torch's ``_get_user_allowed_globals`` plus this thread's entries during our loads."""
    allowed = _torch_user_allowed_globals()
    extra = getattr(_allowed_here, 'globals', None)
    if extra:
        allowed = {**allowed, **extra}
    return allowed


@contextlib.contextmanager
def _allowed_in_this_thread(entries: Dict[str, Any]) -> Iterator[None]:
    previous = getattr(_allowed_here, 'globals', None)
    _allowed_here.globals = entries
    try:
        yield
    finally:
        _allowed_here.globals = previous


def _torch_allowed_names() -> set:
    """Names torch's weights-only unpickler accepts right now (defaults + add_safe_globals)."""
    return (set(weights_only_unpickler._get_allowed_globals())
            | set(_torch_user_allowed_globals()))


# ---- loading --------------------------------------------------------------------------------
def _log(message: str, level: int = logging.INFO) -> None:
    from mmengine.logging import print_log
    print_log(message, logger='current', level=level)


def _config_without_code(config_text: Any) -> Optional[str]:
    """The literal ``gpu_ids = ...`` of a config text (all ``Runner.resume`` reads), or None."""
    if not isinstance(config_text, str):
        return None
    try:
        tree = ast.parse(config_text)
    except (SyntaxError, ValueError):
        return None
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == 'gpu_ids'):
            try:
                return f'gpu_ids = {ast.literal_eval(node.value)!r}\n'
            except ValueError:
                return None
    return None


def _drop_config_code(checkpoint: Any) -> None:
    """Move the config texts mmengine would execute out of an untrusted checkpoint.

    ``Runner.resume`` executes ``meta['config']`` and mmengine's ``BaseInferencer`` executes
    ``message_hub['runtime_info']['cfg']`` / ``meta['cfg']`` (when given weights without a
    config). They are moved, as plain strings, into ``meta['untrusted_config_text']``
    (``{'meta.config': ..., ...}``); ``meta['config']`` keeps only a literal ``gpu_ids``.
    """
    if not isinstance(checkpoint, dict):
        return
    meta = checkpoint.get('meta')
    message_hub = checkpoint.get('message_hub')
    runtime_info = message_hub.get('runtime_info') if isinstance(message_hub, dict) else None
    moved: Dict[str, str] = {}
    for place, holder, key in (('meta.config', meta, 'config'), ('meta.cfg', meta, 'cfg'),
                               ('message_hub.runtime_info.cfg', runtime_info, 'cfg')):
        if isinstance(holder, dict) and key in holder:
            text = holder.pop(key)
            moved[place] = text if isinstance(text, str) else repr(text)
    if not moved:
        return
    if not isinstance(meta, dict):
        meta = checkpoint['meta'] = {}
    meta[UNTRUSTED_CONFIG_KEY] = moved
    literal = _config_without_code(moved.get('meta.config'))
    if literal is not None:
        meta['config'] = literal


def _load_trusted(path: str, file, map_location: Any) -> Any:
    if os.environ.get(_TORCH_FORCE_SAFE, '').strip().lower() in ('1', 'true', 'yes', 'y', 'on'):
        raise RuntimeError(f'{path}: full unpickling was asked for (trusted load) but '
                           f'{_TORCH_FORCE_SAFE} forces weights_only=True; unset one of them.')
    _log(f'trusted load of {path}: full unpickling (weights_only=False)', logging.WARNING)
    return torch.load(file, map_location=map_location, weights_only=False)


def _load_scanned(path: str, file, data_pkl: Optional[bytes], map_location: Any) -> Any:
    if data_pkl is None:  # legacy format (torch < 1.6): torch's defaults only
        entries: Dict[str, Any] = {}
        scan_legacy_file(file, _torch_allowed_names(), path)
        file.seek(0)
    else:
        entries = mmengine_checkpoint_globals()
        scan_pickle(data_pkl, _torch_allowed_names() | set(entries), path)
    try:
        with _allowed_in_this_thread(entries):
            checkpoint = torch.load(file, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:  # torch refused what the scan let through
        raise UnsafeCheckpointError(f'{path}: {error}', path) from error
    except EOFError as error:
        raise DamagedCheckpointError(path, 'it ends early (truncated)') from error
    _drop_config_code(checkpoint)
    return checkpoint


def load_checkpoint_file(filename: str, map_location: Any = None) -> Any:
    """Load a local checkpoint the safe way (module docstring); trusted loads use full pickle.

    Args:
        filename: local path (``~`` expanded).
        map_location: as for ``torch.load``.

    Raises:
        FileNotFoundError: no such file.
        DamagedCheckpointError: empty, truncated, corrupted or not a checkpoint.
        UnsafeCheckpointError: intact, but refused by the checks (and not trusted).
    """
    enable_safe_checkpoint_loading()
    path = os.path.expanduser(str(filename))
    file, data_pkl = open_checkpoint(path)
    with file:
        if trust_checkpoints_enabled():
            return _load_trusted(path, file, map_location)
        return _load_scanned(path, file, data_pkl, map_location)


def load_from_local_checked(filename: str, map_location: Any = None) -> Any:
    """mmengine ``CheckpointLoader`` scheme ``''`` (local files): :func:`load_checkpoint_file`."""
    return load_checkpoint_file(filename, map_location)


def load_from_http_checked(filename: str, map_location: Any = None,
                           model_dir: Optional[str] = None,
                           progress: bool = os.isatty(0)) -> Any:
    """mmengine scheme ``http://`` / ``https://``: download (rank 0 first), then load the
    local copy with :func:`load_checkpoint_file`."""
    from mmengine.dist import get_dist_info

    rank, world_size = get_dist_info()
    if rank == 0:
        path = download_checkpoint(filename, model_dir, progress)
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            path = download_checkpoint(filename, model_dir, progress)
    return load_checkpoint_file(path, map_location)


def enable_safe_checkpoint_loading() -> None:
    """Install mmsofteq's loaders for mmengine's local and http(s) schemes. Idempotent.

    Also routes mmengine's ``torchvision://``, ``open-mmlab://`` and ``mmcls://`` schemes
    (which download through ``load_from_http``) to :func:`load_from_http_checked`, and hooks
    the per-thread allow-list into torch's weights-only unpickler (a no-op outside our loads).
    """
    global _enabled, _torch_user_allowed_globals
    with _lock:
        if _enabled:
            return
        from mmengine.runner import checkpoint as mmengine_checkpoint

        current = weights_only_unpickler._get_user_allowed_globals
        if current is not _user_allowed_globals_in_scope:
            _torch_user_allowed_globals = current
            weights_only_unpickler._get_user_allowed_globals = _user_allowed_globals_in_scope
        loader = mmengine_checkpoint.CheckpointLoader
        loader.register_scheme(prefixes='', loader=load_from_local_checked, force=True)
        loader.register_scheme(prefixes=('http://', 'https://'), loader=load_from_http_checked,
                               force=True)
        mmengine_checkpoint.load_from_http = load_from_http_checked
        _enabled = True
