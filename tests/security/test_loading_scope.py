"""Safe loading is scoped: mmsofteq's checked allow-list exists only inside its own loads (this
thread, this call), trust is a per-thread block, http(s) URLs take the same path, and the
symbolic scan refuses every numpy / getattr / opcode form mmengine does not write.

The mmengine-style checkpoint here is what the Runner saves (a real ``MessageHub`` state with
``HistoryBuffer`` and numpy values); tests/security/test_hostile_checkpoints.py uses one the
Runner itself wrote.
"""
import functools
import http.server
import io
import os
import pickle
import threading

import numpy as np
import pytest
import torch
from fixtures.hostile_checkpoints import HOSTILE_FILES
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import CheckpointLoader

from mmsofteq.utils import (TRUST_ENV_VAR, DamagedCheckpointError, UnsafeCheckpointError,
                            load_checkpoint_file, mmengine_checkpoint_globals,
                            trust_checkpoints_enabled, trusted_checkpoint_loading)
from mmsofteq.utils.checkpoint_scan import scan_pickle

NUMPY_AND_MMENGINE = {'numpy._core.multiarray._reconstruct', 'numpy.ndarray', 'numpy.dtype',
                      'numpy._core.multiarray.scalar', 'builtins.getattr',
                      'mmengine.logging.history_buffer.HistoryBuffer'}


@pytest.fixture(autouse=True)
def untrusted(monkeypatch):
    monkeypatch.delenv(TRUST_ENV_VAR, raising=False)


def mmengine_style_checkpoint(path, config_text="gpu_ids = [0, 1]\nx = 1\n"):
    hub = MessageHub(f'scope-test-{os.path.basename(path)}')
    for value in (1.0, 0.5, 0.25):
        hub.update_scalar('train/loss', value)
    hub.update_info('best_score', np.float64(0.75))
    hub.update_info('cfg', 'model = dict(type="X")')
    torch.save(dict(meta=dict(epoch=1, iter=3, config=config_text, cfg='a = 1'),
                    state_dict={'conv.weight': torch.randn(2, 3, 3, 3)},
                    message_hub=hub.state_dict()), path)
    return path


@pytest.fixture
def genuine(tmp_path):
    return mmengine_style_checkpoint(str(tmp_path / 'genuine.pth'))


def data_pkl(path):
    import zipfile
    with zipfile.ZipFile(path) as archive:
        return archive.read(next(n for n in archive.namelist() if n.endswith('/data.pkl')))


# ------------------------------------------------------------------ no process-wide change

def test_importing_mmsofteq_adds_nothing_to_torchs_allow_list(genuine):
    safe = {getattr(entry, '__qualname__', repr(entry)) for entry in
            torch.serialization.get_safe_globals()}
    assert not any('numpy' in name or 'HistoryBuffer' in name or 'getattr' in name
                   for name in safe), safe
    assert set(torch.serialization.get_unsafe_globals_in_checkpoint(genuine)) == \
        NUMPY_AND_MMENGINE
    with pytest.raises(pickle.UnpicklingError):
        torch.load(genuine)  # plain torch keeps its defaults
    loaded = load_checkpoint_file(genuine, 'cpu')  # ours loads it
    history = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(history, HistoryBuffer) and history.mean() == pytest.approx(7 / 12)
    assert loaded['message_hub']['runtime_info']['best_score'] == 0.75


def test_crafted_dtype_is_refused_by_plain_torch_and_by_mmsofteq(genuine, tmp_path):
    path = str(tmp_path / 'crafted.pth')
    HOSTILE_FILES['crafted_numpy_dtype'](path, '', genuine)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)
    with pytest.raises(UnsafeCheckpointError, match=r"numpy.dtype\('V8', False, True\)"):
        CheckpointLoader.load_checkpoint(path, map_location='cpu')


def test_another_threads_plain_load_stays_safe_during_our_load(genuine, tmp_path):
    """Thread B loads while thread A is inside mmsofteq's load (its entries active, and A
    trusted): B's torch.load refuses the mmengine file, B's mmsofteq load of an os.system
    file is refused, B is not trusted."""
    hostile, marker = str(tmp_path / 'os.pth'), str(tmp_path / 'marker')
    HOSTILE_FILES['os_system'](hostile, marker, genuine)
    seen = {}

    def other_thread():
        seen['trusted'] = trust_checkpoints_enabled()
        try:
            torch.load(genuine)
            seen['plain'] = 'loaded'
        except pickle.UnpicklingError:
            seen['plain'] = 'refused'
        try:
            load_checkpoint_file(hostile)
            seen['ours'] = 'loaded'
        except UnsafeCheckpointError:
            seen['ours'] = 'refused'

    def map_location(storage, location):  # runs inside thread A's torch.load
        if not seen:
            worker = threading.Thread(target=other_thread)
            worker.start()
            worker.join()
        return storage

    load_checkpoint_file(genuine, map_location)  # A: scoped entries active, untrusted
    assert seen == dict(trusted=False, plain='refused', ours='refused')
    seen.clear()
    with trusted_checkpoint_loading():
        assert trust_checkpoints_enabled()
        load_checkpoint_file(genuine, map_location)  # A: trusted (full pickle)
    assert seen == dict(trusted=False, plain='refused', ours='refused')
    assert not os.path.exists(marker)


def test_trust_is_read_from_the_environment_at_each_load(genuine, tmp_path, monkeypatch):
    hostile, marker = str(tmp_path / 'os.pth'), str(tmp_path / 'marker')
    HOSTILE_FILES['os_system'](hostile, marker, genuine)
    with pytest.raises(UnsafeCheckpointError, match=TRUST_ENV_VAR):
        load_checkpoint_file(hostile)
    monkeypatch.setenv(TRUST_ENV_VAR, '1')
    load_checkpoint_file(hostile)  # full pickle: the shell command runs
    assert os.path.exists(marker)
    assert 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' not in os.environ
    monkeypatch.setenv('TORCH_FORCE_WEIGHTS_ONLY_LOAD', '1')
    with pytest.raises(RuntimeError, match='TORCH_FORCE_WEIGHTS_ONLY_LOAD forces'):
        load_checkpoint_file(genuine)


# ------------------------------------------------------------------------- config text

def test_untrusted_loads_move_the_config_code_out(genuine):
    loaded = load_checkpoint_file(genuine)
    meta = loaded['meta']
    assert meta['config'] == 'gpu_ids = [0, 1]\n'  # the one value Runner.resume reads
    assert 'cfg' not in meta and 'cfg' not in loaded['message_hub']['runtime_info']
    assert meta['untrusted_config_text'] == {
        'meta.config': 'gpu_ids = [0, 1]\nx = 1\n', 'meta.cfg': 'a = 1',
        'message_hub.runtime_info.cfg': 'model = dict(type="X")'}
    with trusted_checkpoint_loading():
        trusted = load_checkpoint_file(genuine)
    assert trusted['meta']['config'] == 'gpu_ids = [0, 1]\nx = 1\n'


@pytest.mark.parametrize('text', ["gpu_ids = list(range(__import__('os').getpid()))",
                                  'import os\n', 'not python (', 12])
def test_config_text_without_a_literal_gpu_ids_is_dropped(tmp_path, text):
    path = mmengine_style_checkpoint(str(tmp_path / 'c.pth'), config_text=text)
    meta = load_checkpoint_file(path)['meta']
    assert 'config' not in meta
    assert meta['untrusted_config_text']['meta.config'] == (text if isinstance(text, str)
                                                            else repr(text))


# ------------------------------------------------------------------------------- http(s)

@pytest.fixture
def served(tmp_path):
    """An http server on 127.0.0.1 serving tmp_path/served; torch hub cache in tmp_path."""
    folder = tmp_path / 'served'
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hub_dir = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / 'hub'))
    try:
        yield folder, f'http://127.0.0.1:{server.server_address[1]}'
    finally:
        torch.hub.set_dir(hub_dir)
        server.shutdown()
        server.server_close()


def test_urls_are_downloaded_then_loaded_the_safe_way(served, tmp_path):
    folder, url = served
    mmengine_style_checkpoint(str(folder / 'genuine.pth'))
    HOSTILE_FILES['os_system'](str(folder / 'os.pth'), str(tmp_path / 'marker'),
                               str(folder / 'genuine.pth'))
    loaded = CheckpointLoader.load_checkpoint(f'{url}/genuine.pth', map_location='cpu')
    assert isinstance(loaded['message_hub']['log_scalars']['train/loss'], HistoryBuffer)
    assert [name for name in os.listdir(tmp_path / 'hub' / 'checkpoints')
            if name.endswith('-genuine.pth')]  # cached under a key of the whole URL
    assert 'config' in loaded['meta'] and 'cfg' not in loaded['meta']  # sanitised too
    with pytest.raises(UnsafeCheckpointError, match='posix.system'):
        CheckpointLoader.load_checkpoint(f'{url}/os.pth', map_location='cpu')
    assert not os.path.exists(tmp_path / 'marker')


# ---------------------------------------------------------------------- the symbolic scan

class _Reduce:
    def __init__(self, func, args, state=None):
        self.func, self.args, self.state = func, args, state

    def __reduce__(self):
        return (self.func, self.args) if self.state is None else (self.func, self.args,
                                                                   self.state)


def _multiarray():
    from numpy._core import multiarray
    return multiarray


def _scan_object(obj):
    buffer = io.BytesIO()
    torch.save({'x': obj}, buffer)
    buffer.seek(0)
    import zipfile
    with zipfile.ZipFile(buffer) as archive:
        data = archive.read(next(n for n in archive.namelist() if n.endswith('/data.pkl')))
    allowed = set(torch._weights_only_unpickler._get_allowed_globals()) | set(
        mmengine_checkpoint_globals())
    return scan_pickle(data, allowed, 'test.pth')


def test_scan_accepts_what_mmengine_writes(genuine):
    assert _scan_object(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert _scan_object(np.float64(3.5))
    assert _scan_object(np.array([True, False]))
    assert _scan_object(HistoryBuffer([1.0, 2.0], [1, 1]))
    assert NUMPY_AND_MMENGINE <= _scan_object(
        [HistoryBuffer([1.0], [1]), np.float64(1.0)])
    assert set(scan_pickle(data_pkl(genuine), set(
        torch._weights_only_unpickler._get_allowed_globals()) | set(
            mmengine_checkpoint_globals()), genuine)) >= NUMPY_AND_MMENGINE


@pytest.mark.parametrize('obj, message', [
    (np.array([object()], dtype=object), r"numpy.dtype\('O8', False, True\)"),
    (np.array(['a'], dtype='U1'), r"numpy.dtype\('U1', False, True\)"),
    (_Reduce(np.dtype, ('f8', False, True), (3, '<', None, None, None, 1 << 30, 1, 0)),
     'sets the numpy dtype state'),
    (_Reduce(np.dtype, ('f8', False, True), (3, '<', None, ('a', ), {'a': 1}, -1, -1, 0)),
     'sets the numpy dtype state'),
    (_Reduce(_multiarray()._reconstruct, (np.ndarray, (1 << 40, ), b'b')),
     r"only .*_reconstruct\(numpy.ndarray, \(0,\), b'b'\) is allowed"),
    (_Reduce(_multiarray()._reconstruct, (np.ndarray, (0, ), b'b'),
             (1, (1000, ), np.dtype('f8'), False, b'\x00' * 8)),
     'whose data is not 1000 x 8 bytes'),
    (_Reduce(_multiarray().scalar, (np.dtype('f8'), b'\x00' * 4)),
     'exactly its item size of bytes'),
    (_Reduce(getattr, (HistoryBuffer, '__init__')), r'only getattr\(HistoryBuffer'),
    (_Reduce(getattr, (np.ndarray, 'tofile')), r'only getattr\(HistoryBuffer'),
    (_Reduce(np.ndarray, ((2, ), )), 'calls numpy.ndarray directly'),
])
def test_scan_refuses_every_other_numpy_and_getattr_form(obj, message):
    with pytest.raises(UnsafeCheckpointError, match=message):
        _scan_object(obj)


def test_scan_refuses_instantiation_opcodes_and_reports_malformed_pickles():
    allowed = set(torch._weights_only_unpickler._get_allowed_globals())
    with pytest.raises(UnsafeCheckpointError, match='INST opcode'):
        scan_pickle(b'(icollections\nOrderedDict\n.', allowed, 'inst.pth')
    with pytest.raises(UnsafeCheckpointError, match='OBJ opcode'):
        scan_pickle(b'\x80\x02(ccollections\nOrderedDict\no.', allowed, 'obj.pth')
    with pytest.raises(DamagedCheckpointError, match='its pickle is malformed'):
        scan_pickle(b'\x80\x02}q\x00(X\x01', allowed, 'cut.pth')


def test_legacy_files_load_with_torchs_defaults_only(tmp_path):
    plain = str(tmp_path / 'legacy.pth')
    torch.save({'w': torch.ones(3)}, plain, _use_new_zipfile_serialization=False)
    assert torch.equal(load_checkpoint_file(plain)['w'], torch.ones(3))
    with_numpy = str(tmp_path / 'legacy_numpy.pth')
    torch.save({'w': np.ones(3)}, with_numpy, _use_new_zipfile_serialization=False)
    with pytest.raises(UnsafeCheckpointError, match='numpy'):
        load_checkpoint_file(with_numpy)


def test_the_allow_list_holds_the_restricted_getattr_and_numeric_dtypes_only():
    entries = mmengine_checkpoint_globals()
    assert entries['builtins.getattr'] is not getattr
    dtype_classes = {name for name in entries if name.startswith('numpy.dtypes.')}
    assert 'numpy.dtypes.Float64DType' in dtype_classes
    assert not any(kind in name for name in dtype_classes
                   for kind in ('Object', 'Void', 'Str', 'Bytes', 'DateTime'))
    with pytest.raises(pickle.UnpicklingError):
        entries['builtins.getattr'](HistoryBuffer, '__init__')
    assert entries['builtins.getattr'](HistoryBuffer, 'mean') is HistoryBuffer.mean


# ------------------------------------------------------------------ integrity (fast tier)


def _flip_a_byte_of_the_tensor_record(path):
    """Flip one payload byte of the first tensor record in place; return the record name."""
    import zipfile
    with zipfile.ZipFile(path) as archive:
        info = next(i for i in archive.infolist() if '/data/' in i.filename)
    with open(path, 'r+b') as handle:
        handle.seek(info.header_offset + 26)
        name_length, extra_length = (int.from_bytes(handle.read(2), 'little') for _ in range(2))
        payload = info.header_offset + 30 + name_length + extra_length
        handle.seek(payload + 5)
        byte = handle.read(1)[0]
        handle.seek(payload + 5)
        handle.write(bytes([byte ^ 0x40]))
    return info.filename


def test_a_flipped_byte_is_refused_by_its_crc_where_torch_would_load_it(genuine):
    """torch.load checks no CRC: it returns the changed weights. mmsofteq's loader (every
    mmengine load goes through it) refuses the file, naming the record."""
    original = torch.load(genuine, weights_only=False)['state_dict']['conv.weight'].clone()
    record = _flip_a_byte_of_the_tensor_record(genuine)
    changed = torch.load(genuine, weights_only=False)['state_dict']['conv.weight']
    assert not torch.equal(changed, original)
    with pytest.raises(DamagedCheckpointError, match=rf'the record {record} does not match '
                                                     r'its CRC-32'):
        load_checkpoint_file(genuine)
    with pytest.raises(DamagedCheckpointError):
        CheckpointLoader.load_checkpoint(genuine)
