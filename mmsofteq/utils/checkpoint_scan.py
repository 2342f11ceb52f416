"""Check a checkpoint's pickle without running it: which globals it names, and what it asks of
numpy and ``getattr``.

torch's weights-only unpickler accepts a global once it is allow-listed, whatever arguments
the pickle then passes to it. That is fine for torch's own entries but not for numpy:
``numpy.dtype`` rebuilt from a crafted state (item size, alignment, fields) makes numpy read
memory the file chooses, which is why torch leaves numpy off its list. mmengine's training
checkpoints need numpy all the same (the logged scalars of ``message_hub``), so
:func:`scan_pickle` replays the pickle *symbolically* -- globals are names, calls are records,
nothing is imported or called -- and accepts only:

* globals in the allowed set it is given (torch's defaults, the user's ``add_safe_globals``,
  mmsofteq's entries in :data:`SCANNED_GLOBALS`);
* ``numpy.dtype(code, False, True)`` with ``code`` a plain numeric type (:data:`NUMPY_CODES`)
  and the canonical state ``(3, byte_order, None, None, None, -1, -1, 0)``;
* ``numpy._core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')`` completed by the state
  ``(1, shape, dtype, fortran_order, raw)`` whose ``len(raw)`` is ``prod(shape)`` times the
  dtype's item size;
* ``numpy._core.multiarray.scalar(dtype, raw)`` with ``len(raw)`` equal to the item size;
* ``getattr(HistoryBuffer, name)`` for a public function of mmengine's ``HistoryBuffer``
  (how it pickles its statistics methods);
* no ``INST`` / ``OBJ`` / extension-registry opcodes, no call of anything but a global.

Everything else raises :class:`UnsafeCheckpointError` naming what was refused. Malformed
pickles raise :class:`DamagedCheckpointError`. The real load that follows still goes through
torch's weights-only unpickler: the scan only narrows what that unpickler is allowed to do.
"""
from __future__ import annotations

import inspect
import io
import math
import pickle
import struct
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from typing import Any, BinaryIO, Collection, Dict, Optional, Set, Tuple

from .checkpoint_errors import DamagedCheckpointError, UnsafeCheckpointError

#: numpy type codes a checkpoint may rebuild, with their item sizes in bytes.
NUMPY_CODES: Dict[str, int] = {
    'b1': 1, 'i1': 1, 'u1': 1, 'i2': 2, 'u2': 2, 'i4': 4, 'u4': 4, 'i8': 8, 'u8': 8,
    'f2': 2, 'f4': 4, 'f8': 8, 'c8': 8, 'c16': 16}
NUMPY_BYTE_ORDERS = ('<', '>', '|', '=')

_MULTIARRAY_MODULES = ('numpy._core.multiarray', 'numpy.core.multiarray')
RECONSTRUCT = tuple(f'{module}._reconstruct' for module in _MULTIARRAY_MODULES)
SCALAR = tuple(f'{module}.scalar' for module in _MULTIARRAY_MODULES)
NDARRAY = 'numpy.ndarray'
DTYPE = 'numpy.dtype'
GETATTR = 'builtins.getattr'
HISTORY_BUFFER = 'mmengine.logging.history_buffer.HistoryBuffer'
CODECS_ENCODE = '_codecs.encode'

#: The globals mmsofteq adds for mmengine checkpoints, all checked by :func:`scan_pickle`.
SCANNED_GLOBALS = (HISTORY_BUFFER, GETATTR, NDARRAY, DTYPE) + RECONSTRUCT + SCALAR


class _Global:
    """A global named by the pickle (never imported)."""
    __slots__ = ('name', )

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


class _Call:
    """The record of ``func(*args)`` (``REDUCE`` / ``NEWOBJ``); containers ops are no-ops."""

    def __init__(self, func: Any, args: Any):
        self.func, self.args, self.built = func, args, False

    def append(self, item: Any) -> None:
        pass

    def extend(self, items: Any) -> None:
        pass

    def add(self, item: Any) -> None:
        pass

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


class _NumpyDtype(_Call):
    """A checked ``numpy.dtype(code, False, True)``."""

    def __init__(self, func: Any, args: Any, code: str):
        super().__init__(func, args)
        self.itemsize = NUMPY_CODES[code]


class _NumpyArray(_Call):
    """A checked ``_reconstruct(numpy.ndarray, (0,), b'b')`` awaiting its state."""


def _storage(pid: Any) -> _Call:
    return _Call(_Global('<persistent storage>'), pid)


def _history_buffer_functions() -> Set[str]:
    from mmengine.logging.history_buffer import HistoryBuffer
    return {name for name, value in vars(HistoryBuffer).items()
            if not name.startswith('_') and inspect.isfunction(value)}


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + '...'


class _SymbolicUnpickler(pickle._Unpickler):  # type: ignore[name-defined]
    """Replays a pickle with :class:`_Global` / :class:`_Call` records in place of objects."""

    dispatch = dict(pickle._Unpickler.dispatch)  # type: ignore[attr-defined]

    def __init__(self, stream: BinaryIO, allowed: Collection[str], what: str):
        super().__init__(stream)
        self.allowed, self.what = allowed, what
        self.globals_seen: Set[str] = set()
        self._history_functions: Optional[Set[str]] = None

    # ---- refusal ------------------------------------------------------------------------
    def refuse(self, reason: str) -> None:
        raise UnsafeCheckpointError(f'{self.what}: {reason}', self.what)

    # ---- globals ------------------------------------------------------------------------
    def find_class(self, module: str, name: str) -> _Global:
        # the same name mapping as torch's weights-only unpickler (unconditional)
        if (module, name) in NAME_MAPPING:
            module, name = NAME_MAPPING[(module, name)]
        elif module in IMPORT_MAPPING:
            module = IMPORT_MAPPING[module]
        full_name = f'{module}.{name}'
        self.globals_seen.add(full_name)
        if full_name not in self.allowed:
            raise UnsafeCheckpointError(
                f'{self.what} names the global {full_name}, which is not allowed', self.what,
                unsafe_global=full_name)
        return _Global(full_name)

    def persistent_load(self, pid: Any) -> _Call:
        return _storage(pid)

    # ---- calls --------------------------------------------------------------------------
    def _call(self, func: Any, args: Any) -> Any:
        if not isinstance(func, _Global):
            self.refuse(f'calls {_describe(func)}, which is not a global')
        if not isinstance(args, tuple):
            self.refuse(f'calls {func.name} with arguments that are not a tuple')
        name = func.name
        if name == CODECS_ENCODE:
            if (len(args) == 2 and isinstance(args[0], str) and args[1] == 'latin1'):
                return args[0].encode('latin1')  # proto-2 bytes: keep the value for checks
            return _Call(func, args)
        if name == DTYPE:
            return self._dtype(func, args)
        if name in RECONSTRUCT:
            if not (len(args) == 3 and isinstance(args[0], _Global) and args[0].name == NDARRAY
                    and args[1] == (0, ) and args[2] == b'b'):
                self.refuse(f'calls {name}{_describe(args)}; only '
                            f"{name}(numpy.ndarray, (0,), b'b') is allowed")
            return _NumpyArray(func, args)
        if name in SCALAR:
            if not (len(args) == 2 and isinstance(args[0], _NumpyDtype)
                    and isinstance(args[1], bytes) and len(args[1]) == args[0].itemsize):
                self.refuse(f'calls {name}{_describe(args)}; only a checked dtype and '
                            'exactly its item size of bytes are allowed')
            return _Call(func, args)
        if name == GETATTR:
            if self._history_functions is None:
                self._history_functions = _history_buffer_functions()
            if not (len(args) == 2 and isinstance(args[0], _Global)
                    and args[0].name == HISTORY_BUFFER and args[1] in self._history_functions):
                self.refuse(f'calls getattr{_describe(args)}; only getattr(HistoryBuffer, '
                            f'one of {sorted(self._history_functions)}) is allowed')
            return _Call(func, args)
        if name in (NDARRAY, HISTORY_BUFFER):
            self.refuse(f'calls {name} directly')
        return _Call(func, args)

    def _dtype(self, func: _Global, args: tuple) -> _NumpyDtype:
        if not (len(args) == 3 and isinstance(args[0], str) and args[0] in NUMPY_CODES
                and args[1] is False and args[2] is True):
            self.refuse(f'calls numpy.dtype{_describe(args)}; only numpy.dtype(code, False, '
                        f'True) with code in {sorted(NUMPY_CODES)} is allowed')
        return _NumpyDtype(func, args, args[0])

    def load_reduce(self) -> None:
        args = self.stack.pop()
        self.stack[-1] = self._call(self.stack[-1], args)

    def load_newobj(self) -> None:
        args = self.stack.pop()
        cls = self.stack.pop()
        self.append(self._new_object(cls, args))

    def load_newobj_ex(self) -> None:
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        if kwargs:
            self.refuse(f'creates {_describe(cls)} with keyword arguments')
        self.append(self._new_object(cls, args))

    def _new_object(self, cls: Any, args: Any) -> _Call:
        if not isinstance(cls, _Global):
            self.refuse(f'creates an instance of {_describe(cls)}, which is not a global')
        if cls.name == HISTORY_BUFFER and args == ():
            return _Call(cls, args)
        if cls.name in SCANNED_GLOBALS:
            self.refuse(f'creates {cls.name}{_describe(args)} with NEWOBJ')
        return _Call(cls, args)

    # ---- object state -------------------------------------------------------------------
    def load_build(self) -> None:
        state = self.stack.pop()
        target = self.stack[-1]
        if not isinstance(target, _Call):
            self.refuse(f'sets the state of {_describe(target)}')
        if isinstance(target, (_NumpyDtype, _NumpyArray)):
            if target.built:
                self.refuse('sets the state of a numpy object twice')
            if isinstance(target, _NumpyDtype):
                self._check_dtype_state(state)
            else:
                self._check_array_state(state)
        target.built = True

    def _check_dtype_state(self, state: Any) -> None:
        if not (isinstance(state, tuple) and len(state) == 8 and state[0] == 3
                and state[1] in NUMPY_BYTE_ORDERS and state[2:5] == (None, None, None)
                and state[5:] == (-1, -1, 0)):
            self.refuse(f'sets the numpy dtype state {_describe(state)}; only '
                        '(3, byte_order, None, None, None, -1, -1, 0) is allowed')

    def _check_array_state(self, state: Any) -> None:
        if not (isinstance(state, tuple) and len(state) == 5 and state[0] == 1):
            self.refuse(f'sets the numpy array state {_describe(state)}')
        _, shape, dtype, fortran_order, raw = state
        if not (isinstance(shape, tuple)
                and all(isinstance(size, int) and size >= 0 for size in shape)):
            self.refuse(f'sets a numpy array of shape {_describe(shape)}')
        if not isinstance(dtype, _NumpyDtype):
            self.refuse(f'sets a numpy array of dtype {_describe(dtype)}, not a checked one')
        if not (isinstance(fortran_order, bool) and isinstance(raw, bytes)
                and len(raw) == math.prod(shape) * dtype.itemsize):
            self.refuse(f'sets a numpy array of shape {shape} whose data is not '
                        f'{math.prod(shape)} x {dtype.itemsize} bytes')

    # ---- opcodes with no place in a checkpoint --------------------------------------------
    def load_inst(self) -> None:
        self.refuse('uses the INST opcode (class instantiation by name)')

    def load_obj(self) -> None:
        self.refuse('uses the OBJ opcode (class instantiation)')

    def load_ext(self) -> None:
        self.refuse('uses the copyreg extension registry')

    dispatch[pickle.REDUCE[0]] = load_reduce
    dispatch[pickle.NEWOBJ[0]] = load_newobj
    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex
    dispatch[pickle.BUILD[0]] = load_build
    dispatch[pickle.INST[0]] = load_inst
    dispatch[pickle.OBJ[0]] = load_obj
    for _opcode in (pickle.EXT1, pickle.EXT2, pickle.EXT4):
        dispatch[_opcode[0]] = load_ext
    del _opcode


def _replay(stream: BinaryIO, allowed: Collection[str], path: str) -> Tuple[Any, Set[str]]:
    unpickler = _SymbolicUnpickler(stream, allowed, path)
    try:
        return unpickler.load(), unpickler.globals_seen
    except UnsafeCheckpointError:
        raise
    except (pickle.UnpicklingError, EOFError, IndexError, KeyError, TypeError, ValueError,
            AttributeError, struct.error, UnicodeDecodeError, RecursionError) as error:
        raise DamagedCheckpointError(path, f'its pickle is malformed ({error!r})') from error


def scan_pickle(data: bytes, allowed: Collection[str], path: str) -> Set[str]:
    """Replay the pickle ``data`` symbolically; return the globals it names.

    Args:
        data: one pickle (a ``torch.save`` zip archive's ``data.pkl``).
        allowed: full names (``module.name``, after Python-2 name mapping) it may use.
        path: the checkpoint file, for the errors.

    Raises:
        UnsafeCheckpointError: a refused global, call, state or opcode (see module doc).
        DamagedCheckpointError: ``data`` is not a well-formed pickle.
    """
    return _replay(io.BytesIO(data), allowed, path)[1]


#: The first pickle of a legacy (pre-zip) ``torch.save`` file.
LEGACY_MAGIC_NUMBER = 0x1950a86a20f9469cfc6c


def scan_legacy_file(stream: BinaryIO, allowed: Collection[str], path: str) -> Set[str]:
    """Scan a legacy ``torch.save`` file: magic number, protocol version and system info
    pickles, then the object pickle (checked like :func:`scan_pickle`). Reads only the
    pickles, not the storages that follow them. Returns the globals named."""
    magic, _ = _replay(stream, (), path)
    if magic != LEGACY_MAGIC_NUMBER:
        raise DamagedCheckpointError(path, 'it is neither a torch.save zip archive nor a '
                                     'legacy torch.save file (no magic number)')
    for _header in ('protocol version', 'system info'):
        _replay(stream, (), path)
    return _replay(stream, allowed, path)[1]
