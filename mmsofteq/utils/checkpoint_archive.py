"""Read a checkpoint's pickle from the bytes ``torch.load`` reads, or refuse the file.

``torch.load`` and Python's ``zipfile`` decide differently what a file is and where its
records are:

========================  ==========================================  =======================
question                  ``torch.load`` (torch 2.x)                  ``zipfile``
========================  ==========================================  =======================
zip or legacy file?       zip iff its first 4 bytes are ``PK\\3\\4``     zip iff an end record
                                                                      is near the *end*
which pickle?             ``<folder of the first record>/data.pkl``   any name asked for
record names              looked up by miniz (case-insensitive)       exact
bytes before the archive  not allowed                                 allowed (offsets shift)
compressed records        inflated                                    inflated
========================  ==========================================  =======================

A file crafted for the gaps (a legacy pickle with a zip archive appended; a second
``data.pkl`` under another folder or case; records reached through shifted offsets) would let
a scan of one pickle pass while torch loads another, and a compressed record can expand a
small file into gigabytes. ``torch.save`` writes none of that: one folder, stored records laid
end to end from byte 0 (each local header, its data and a data descriptor), then the central
directory. :func:`open_checkpoint` accepts exactly that layout, takes ``data.pkl`` from
torch's own reader (``torch._C.PyTorchFileReader``, the call ``torch.load`` makes) and checks
that ``zipfile`` reads the same bytes; anything else raises
:class:`~.checkpoint_errors.MalformedCheckpointError`. Nothing is decompressed or unpickled
before these checks pass.
"""
from __future__ import annotations

import os
import struct
import zipfile
import zlib
from typing import BinaryIO, List, Optional, Tuple

import torch

from .checkpoint_errors import DamagedCheckpointError, MalformedCheckpointError

ZIP_MAGIC = b'PK\x03\x04'  # torch.serialization._is_zipfile: the first four bytes
LEGACY_MAGIC = b'\x80'  # a pickle protocol mark: every legacy torch.save file starts with one
_LOCAL_HEADER = struct.Struct('<4s2B4HL2L2H')  # zipfile's structFileHeader (30 bytes)
_DESCRIPTOR_MAGIC = b'PK\x07\x08'
_DESCRIPTOR_SIZES = (16, 24)  # signature, CRC-32, sizes as 4- or 8-byte fields (zip64)
_DATA_DESCRIPTOR_FLAG = 0x08


def _record_end(head: bytes, info: zipfile.ZipInfo, path: str) -> int:
    """Offset just past the local header and data of ``info`` (``head``: its 30 header
    bytes)."""
    fields = _LOCAL_HEADER.unpack(head)
    if fields[0] != ZIP_MAGIC:
        raise MalformedCheckpointError(path, f'the record {info.filename!r} has no local header '
                                       f'at offset {info.header_offset}')
    name_length, extra_length = fields[10], fields[11]
    return info.header_offset + _LOCAL_HEADER.size + name_length + extra_length + \
        info.compress_size


def _check_layout(file: BinaryIO, archive: zipfile.ZipFile, path: str) -> str:
    """Refuse what torch.save never writes; return the archive's folder name."""
    infos: List[zipfile.ZipInfo] = archive.infolist()
    if not infos:
        raise MalformedCheckpointError(path, 'the zip archive has no records')
    folder = infos[0].filename.split('/', 1)[0]  # torch takes the first record's folder
    seen = {}
    for info in infos:
        name = info.filename
        if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
            raise MalformedCheckpointError(
                path, f'the record {name!r} is compressed ({info.compress_size:,} bytes that '
                f'expand to {info.file_size:,}); torch.save stores every record uncompressed')
        parts = name.split('/')
        if (len(parts) < 2 or parts[0] != folder or '' in parts or '..' in parts
                or '\\' in name or '\x00' in name):
            raise MalformedCheckpointError(
                path, f'the record {name!r} is not a plain path inside the archive\'s folder '
                f'{folder!r} (torch reads records relative to the first record\'s folder)')
        key = name.casefold()
        if key in seen:
            raise MalformedCheckpointError(
                path, f'the records {seen[key]!r} and {name!r} have the same name for torch\'s '
                'reader (which ignores case)')
        seen[key] = name
    # records end to end from byte 0, then the central directory: nothing hidden in between
    position = 0
    for info in sorted(infos, key=lambda item: item.header_offset):
        if info.header_offset != position:
            raise MalformedCheckpointError(
                path, f'{info.header_offset - position:,} unaccounted bytes before the record '
                f'{info.filename!r} (at offset {position:,})')
        file.seek(position)
        position = _record_end(file.read(_LOCAL_HEADER.size), info, path)
        if info.flag_bits & _DATA_DESCRIPTOR_FLAG:
            file.seek(position)
            tail = file.read(max(_DESCRIPTOR_SIZES) + 4)
            size = next((size for size in _DESCRIPTOR_SIZES if tail.startswith(
                _DESCRIPTOR_MAGIC) and tail[size:size + 4] in (b'PK\x03\x04', b'PK\x01\x02')),
                None)
            if size is None:
                raise MalformedCheckpointError(
                    path, f'no data descriptor after the record {info.filename!r}')
            position += size
    if position != archive.start_dir:
        raise MalformedCheckpointError(
            path, f'{archive.start_dir - position:,} unaccounted bytes between the last record '
            'and the zip directory')
    return folder


def _pickle_torch_reads(file: BinaryIO, path: str) -> bytes:
    """``data.pkl`` as ``torch.load`` gets it: ``PyTorchFileReader.get_record('data.pkl')``."""
    file.seek(0)
    try:
        return torch._C.PyTorchFileReader(file).get_record('data.pkl')
    except RuntimeError as error:
        raise DamagedCheckpointError(path, f'torch cannot read its data.pkl ({error})') \
            from error


def _read_zip(file: BinaryIO, path: str) -> bytes:
    """Check a zip checkpoint's layout and CRCs; return the ``data.pkl`` torch will unpickle."""
    try:
        with zipfile.ZipFile(file) as archive:
            folder = _check_layout(file, archive, path)
            records = [name for name in archive.namelist() if name == f'{folder}/data.pkl']
            if len(records) != 1:
                raise DamagedCheckpointError(
                    path, f'it is a zip archive but not one written by torch.save (no '
                    f'{folder}/data.pkl record)')
            bad_record = archive.testzip()
            if bad_record is not None:
                raise DamagedCheckpointError(
                    path, f'the record {bad_record} does not match its CRC-32 (corrupted bytes)')
            seen_by_zipfile = archive.read(records[0])
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, struct.error) as error:
        raise DamagedCheckpointError(path, f'its zip archive is unreadable ({error})') from error
    seen_by_torch = _pickle_torch_reads(file, path)
    if seen_by_torch != seen_by_zipfile:
        raise MalformedCheckpointError(path, 'torch\'s reader and zipfile read different '
                                       'data.pkl records from it')
    return seen_by_torch


def open_checkpoint(path: str) -> Tuple[BinaryIO, Optional[bytes]]:
    """Open ``path`` for ``torch.load``; return ``(file, data_pkl)``.

    ``data_pkl`` is the zip archive's pickle exactly as torch will read it, or ``None`` for a
    legacy (torch < 1.6) file. The file is positioned at 0.

    Raises:
        FileNotFoundError: no such file.
        DamagedCheckpointError: empty, truncated, CRC mismatch, not a checkpoint.
        MalformedCheckpointError: a layout torch.save never writes (module docstring).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path} can not be found.')
    if os.path.getsize(path) == 0:
        raise DamagedCheckpointError(path, 'the file is empty')
    file = open(path, 'rb')
    try:
        head = file.read(len(ZIP_MAGIC))
        file.seek(0)
        has_end_record = zipfile.is_zipfile(file)
        file.seek(0)
        if head == ZIP_MAGIC:
            if not has_end_record:
                raise DamagedCheckpointError(
                    path, 'it starts like a zip archive but has no end record (truncated)')
            data = _read_zip(file, path)
            file.seek(0)
            return file, data
        if head.startswith(b'PK'):
            raise DamagedCheckpointError(path, f'it starts with {head!r}, not a zip local '
                                         'header (truncated or not a checkpoint)')
        if head[:1] != LEGACY_MAGIC:
            raise DamagedCheckpointError(
                path, f'it is neither a torch.save zip archive nor a legacy torch.save file '
                f'(first bytes {head!r})')
        if has_end_record:
            raise MalformedCheckpointError(
                path, 'it starts as a legacy torch.save file but ends with a zip archive: '
                'torch would unpickle the legacy part, a zip reader the archive')
        return file, None
    except BaseException:
        file.close()
        raise


__all__ = ['open_checkpoint', 'ZIP_MAGIC']
