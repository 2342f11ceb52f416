"""Files laid out so that two readers see different checkpoints, and zip bombs.

``torch.load`` decides zip-or-legacy from the first four bytes and takes ``data.pkl`` from
the first record's folder through miniz (case-insensitive names); ``zipfile`` looks for the
end record at the end of the file and shifts offsets past bytes in front of an archive. Each
test builds a file that exploits one gap, shows with torch itself that the gap is real
(control), and checks that mmsofteq refuses the file before anything is unpickled or
inflated.
"""
import io
import os
import zipfile

import pytest
import torch
from mmengine.runner.checkpoint import CheckpointLoader

from mmsofteq.utils import (MalformedCheckpointError, UnsafeCheckpointError,
                            load_checkpoint_file)

GENUINE = {'conv.weight': torch.full((2, 3, 3, 3), 0.5)}
HOSTILE = {'conv.weight': torch.zeros(2, 3, 3, 3)}  # what an attacker wants loaded instead


def _saved(obj, **kwargs) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    return buffer.getvalue()


def _records(blob: bytes):
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def _zip(records, compress=()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_STORED) as archive:
        for name, data in records:
            archive.writestr(name, data, compress_type=(
                zipfile.ZIP_DEFLATED if name in compress else zipfile.ZIP_STORED))
    return buffer.getvalue()


def _write(tmp_path, name, blob) -> str:
    path = str(tmp_path / name)
    with open(path, 'wb') as handle:
        handle.write(blob)
    return path


def _torch_sees(path):
    return torch.load(path, map_location='cpu', weights_only=True)


def _refused(path, match):
    with pytest.raises(MalformedCheckpointError, match=match):
        load_checkpoint_file(path)
    with pytest.raises(MalformedCheckpointError, match=match):  # mmengine's route as well
        CheckpointLoader.load_checkpoint(path, map_location='cpu')


def test_a_stored_zip_without_data_descriptors_still_loads(tmp_path):
    """zipfile-written archives (no data descriptors, no alignment) are valid torch files."""
    path = _write(tmp_path, 'rewritten.pth', _zip(_records(_saved(GENUINE))))
    assert torch.equal(load_checkpoint_file(path)['conv.weight'], GENUINE['conv.weight'])


def test_legacy_file_with_a_zip_archive_appended(tmp_path):
    blob = _saved(HOSTILE, _use_new_zipfile_serialization=False) + _saved(GENUINE)
    path = _write(tmp_path, 'legacy_plus_zip.pth', blob)
    # control: zipfile sees the genuine archive, torch loads the legacy (hostile) pickle
    assert zipfile.is_zipfile(path)
    with zipfile.ZipFile(path) as archive:
        assert any(name.endswith('/data.pkl') for name in archive.namelist())
    assert torch.equal(_torch_sees(path)['conv.weight'], HOSTILE['conv.weight'])
    _refused(path, 'starts as a legacy torch.save file but ends with a zip archive')


def test_legacy_file_alone_still_loads(tmp_path):
    path = _write(tmp_path, 'legacy.pth', _saved(GENUINE, _use_new_zipfile_serialization=False))
    assert torch.equal(load_checkpoint_file(path)['conv.weight'], GENUINE['conv.weight'])


def test_record_names_equal_but_for_case(tmp_path):
    genuine = _records(_saved(GENUINE))
    hostile_pickle = dict(_records(_saved(HOSTILE)))['archive/data.pkl']
    records = [('archive/DATA.pkl', hostile_pickle)] + genuine
    path = _write(tmp_path, 'case_twins.pth', _zip(records))
    with zipfile.ZipFile(path) as archive:  # control: an exact-name reader sees one data.pkl
        assert [n for n in archive.namelist() if n == 'archive/data.pkl'] == ['archive/data.pkl']
    _refused(path, "'archive/DATA.pkl' and 'archive/data.pkl' have the same name for torch")


def test_a_record_outside_the_first_records_folder(tmp_path):
    genuine = _records(_saved(GENUINE))
    hostile = [(name.replace('archive/', 'other/', 1), data)
               for name, data in _records(_saved(HOSTILE))]
    path = _write(tmp_path, 'two_folders.pth', _zip(hostile + genuine))
    # control: torch (2.14) reads the first record's folder and stops at the other one
    with pytest.raises(RuntimeError, match='not in a subdirectory other/'):
        _torch_sees(path)
    _refused(path, "the record 'archive/data.pkl' is not a plain path inside the archive's "
                   "folder 'other'")


def test_two_archives_end_to_end(tmp_path):
    """zipfile reads the second archive (offsets shifted past the first); torch must not be
    allowed to read other bytes than the scan."""
    path = _write(tmp_path, 'concatenated.pth', _saved(HOSTILE) + _saved(GENUINE))
    with zipfile.ZipFile(path) as archive:  # control: zipfile sees the genuine one
        pickled = archive.read('archive/data.pkl')
    assert pickled == dict(_records(_saved(GENUINE)))['archive/data.pkl']
    _refused(path, 'unaccounted bytes before the record')


def test_bytes_hidden_between_records(tmp_path):
    """Bytes no directory entry covers (a place for a second pickle) are refused."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_STORED) as archive:
        for index, (name, data) in enumerate(_records(_saved(GENUINE))):
            archive.writestr(name, data)
            if index == 0:
                archive.fp.write(b'PK\x03\x04' + b'hidden' * 8)
                archive.start_dir = archive.fp.tell()  # the next record goes after them
    path = _write(tmp_path, 'hidden.pth', buffer.getvalue())
    assert torch.equal(_torch_sees(path)['conv.weight'], GENUINE['conv.weight'])  # control
    _refused(path, r'52 unaccounted bytes before the record')


def test_a_compressed_record_is_refused_before_it_is_inflated(tmp_path):
    big = {'weight': torch.zeros(16 * 1024 * 1024)}  # 64 MiB of zeros
    records = _records(_saved(big))
    tensor_records = [name for name, _ in records if '/data/' in name]
    path = _write(tmp_path, 'bomb.pth', _zip(records, compress=tensor_records))
    assert os.path.getsize(path) < 1024 * 1024  # under 1 MiB on disk
    assert _torch_sees(path)['weight'].numel() == 16 * 1024 * 1024  # control: torch inflates
    _refused(path, r"the record 'archive/data/0' is compressed \(\d[\d,]* bytes that expand to "
                   r"67,108,864\); torch.save stores every record uncompressed")


def test_the_scan_still_reads_the_pickle_torch_reads(tmp_path):
    """A well-formed archive with a refused pickle is refused by the scan (not the layout)."""
    checkpoint = dict(GENUINE)
    checkpoint['meta'] = {'note': __import__('numpy').dtype('V8')}
    path = _write(tmp_path, 'void.pth', _saved(checkpoint))
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint_file(path)
