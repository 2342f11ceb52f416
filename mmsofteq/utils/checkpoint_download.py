"""A download cache for checkpoint URLs that never returns another URL's file or a partial one.

torch hub's cache (which mmengine uses) is keyed by the file name alone: ``…/a/model.pth`` and
``…/b/model.pth`` share one entry, and a download that ends early is moved into the cache
like a complete one. :func:`download_checkpoint` keys the cache by the whole URL and keeps a
record of what it verified:

===========================================  ================================================
file                                         holds
===========================================  ================================================
``<model_dir>/<sha256(url)[:16]>-<name>``    the downloaded bytes
``… .download.json``                         ``url``, ``size``, ``sha256`` of those bytes
===========================================  ================================================

* A download is cached only when it is complete: as many bytes as the server's
  ``Content-Length``, the SHA-256 prefix a torch hub file name carries (``name-<hex>.pth``)
  matching, and the file an intact checkpoint (:func:`~.checkpoint_archive.open_checkpoint`).
  Otherwise nothing is cached and the error says so.
* A cache hit is re-hashed against its record (SHA-256: 0.9 s per GiB measured on
  2 cores, plus the disk read); a mismatch or a missing
  record removes the entry and downloads again, with a warning.
* A file placed by hand under the plain name (torch hub's layout, for machines without
  network) is used only when the URL's name carries a SHA-256 prefix and the file matches it.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import urllib.parse
import urllib.request
from typing import Optional

import torch

from .checkpoint_archive import open_checkpoint
from .checkpoint_errors import DamagedCheckpointError

#: torch hub's rule for a SHA-256 prefix in a file name (``torch.hub.HASH_REGEX``).
HASH_IN_NAME = re.compile(r'-([a-f0-9]*)\.')
RECORD_SUFFIX = '.download.json'
_CHUNK = 1 << 20


def _log(message: str, level: int = logging.INFO) -> None:
    from mmengine.logging import print_log
    print_log(message, logger='current', level=level)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


def cache_path(url: str, model_dir: str) -> str:
    """Where :func:`download_checkpoint` keeps ``url``: ``<sha256(url)[:16]>-<file name>``."""
    name = os.path.basename(urllib.parse.urlparse(url).path)
    if not name:
        raise ValueError(f'{url}: the URL names no file')
    return os.path.join(model_dir, f'{hashlib.sha256(url.encode()).hexdigest()[:16]}-{name}')


def _name_hash(url: str) -> Optional[str]:
    match = HASH_IN_NAME.search(os.path.basename(urllib.parse.urlparse(url).path))
    return match.group(1) if match and len(match.group(1)) >= 8 else None


def _verified_entry(url: str, path: str) -> bool:
    """True if ``path`` is ``url``'s complete download (its record matches the bytes)."""
    record_path = path + RECORD_SUFFIX
    if not os.path.isfile(path):
        return False
    try:
        with open(record_path) as handle:
            record = json.load(handle)
        ok = (record['url'] == url and record['size'] == os.path.getsize(path)
              and record['sha256'] == _sha256(path))
    except (OSError, ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        _log(f'the cached {path} does not match its download record for {url}; removing it and '
             'downloading again', logging.WARNING)
        for stale in (path, record_path):
            if os.path.exists(stale):
                os.remove(stale)
    return ok


def _hand_placed(url: str, model_dir: str) -> Optional[str]:
    """A file under the URL's plain name whose SHA-256 matches the prefix in that name."""
    expected = _name_hash(url)
    plain = os.path.join(model_dir, os.path.basename(urllib.parse.urlparse(url).path))
    if not os.path.isfile(plain):
        return None
    if expected is not None and _sha256(plain).startswith(expected):
        _log(f'using {plain} for {url} (its SHA-256 matches the name\'s prefix {expected})')
        return plain
    _log(f'not using {plain} for {url}: '
         + ('its SHA-256 does not match the name\'s prefix' if expected else
            'the URL\'s name carries no SHA-256 prefix to verify it by (load_from a local path '
            'instead)'), logging.WARNING)
    return None


def _fetch(url: str, target: str, progress: bool) -> None:
    """Download ``url`` into a temporary file next to ``target``; verify; move it into place
    with its record."""
    folder = os.path.dirname(target)
    handle, partial = tempfile.mkstemp(prefix='.partial-', dir=folder)
    try:
        digest, received = hashlib.sha256(), 0
        request = urllib.request.Request(url, headers={'User-Agent': 'mmsofteq'})
        with os.fdopen(handle, 'wb') as out, urllib.request.urlopen(request) as response:
            length = response.headers.get('Content-Length')
            expected = int(length) if length and length.isdigit() else None
            next_report = 0.1
            for chunk in iter(lambda: response.read(_CHUNK), b''):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                if progress and expected and received >= next_report * expected:
                    _log(f'downloading {url}: {received / expected:.0%}')
                    next_report += 0.1
        if expected is not None and received != expected:
            raise OSError(f'the download of {url} ended after {received:,} of {expected:,} '
                          'bytes; nothing was cached, run again to retry')
        prefix = _name_hash(url)
        if prefix is not None and not digest.hexdigest().startswith(prefix):
            raise OSError(f'the download of {url} has SHA-256 {digest.hexdigest()[:16]}..., not '
                          f'the {prefix} its name promises; nothing was cached')
        try:
            open_checkpoint(partial)[0].close()
        except DamagedCheckpointError as error:
            raise DamagedCheckpointError(
                url, f'the downloaded file ({received:,} bytes) {error.WHAT}: {error.reason}',
                advice='Nothing was cached; check the URL (a server error page is not a '
                       'checkpoint) or run again.') from error
        os.replace(partial, target)
        record = dict(url=url, size=received, sha256=digest.hexdigest())
        with open(target + RECORD_SUFFIX + '.tmp', 'w') as out:
            json.dump(record, out)
        os.replace(target + RECORD_SUFFIX + '.tmp', target + RECORD_SUFFIX)
        _log(f'downloaded {url} to {target} ({received:,} bytes, SHA-256 '
             f'{digest.hexdigest()[:16]}...)')
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def download_checkpoint(url: str, model_dir: Optional[str] = None,
                        progress: bool = True) -> str:
    """Return a verified local copy of ``url``, downloading it if needed (module docstring).

    Args:
        url: http(s) URL of a checkpoint.
        model_dir: cache folder (default: torch hub's ``checkpoints`` folder, mmengine's).
        progress: log every 10 % of a download.

    Raises:
        OSError: the download failed, ended early or its name's SHA-256 prefix differs.
        DamagedCheckpointError: the downloaded bytes are not an intact checkpoint.
    """
    model_dir = model_dir or os.path.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    target = cache_path(url, model_dir)
    if _verified_entry(url, target):
        return target
    placed = _hand_placed(url, model_dir)
    if placed is not None:
        return placed
    _log(f'downloading {url} to {target}')
    _fetch(url, target, progress)
    return target
