"""The two ways a checkpoint load is refused: the file is damaged, or it asks for too much."""
from __future__ import annotations

import os
import pickle
from typing import Optional

from .checkpoint_trust import TRUST_ENV_VAR


def _size_of(path: str) -> str:
    try:
        return f'{os.path.getsize(path):,} bytes'
    except OSError:
        return 'size unknown'


class DamagedCheckpointError(ValueError):
    """The file is empty, truncated, corrupted or not a PyTorch checkpoint at all.

    The message names the file, its size and what is wrong. It never suggests trusting the
    file: a damaged file stays damaged under full unpickling.
    """

    #: What the file is said to be, and what the message tells the user to do.
    WHAT = 'is damaged or not a PyTorch checkpoint'
    ADVICE = ('Re-download or re-create it (for --resume, an earlier checkpoint of the same '
              'work_dir can be passed with --resume PATH).')

    def __init__(self, path: str, reason: str, advice: Optional[str] = None):
        self.path, self.reason = path, reason
        super().__init__(f'{path} ({_size_of(path)}) {self.WHAT}: {reason}. '
                         f'{advice or self.ADVICE}')


class MalformedCheckpointError(DamagedCheckpointError):
    """The file is laid out as ``torch.save`` never writes it, in a way that lets two readers
    see different contents (a zip archive appended to a legacy file, records outside the
    archive's single folder, names equal but for case, bytes between records, a compressed
    record). It is refused before anything is unpickled or decompressed."""

    WHAT = 'is not laid out as torch.save writes a checkpoint'
    ADVICE = ('It is refused because torch and the safety checks could read different bytes '
              'from it, or because it would expand beyond its size. Re-create it with '
              'torch.save (or mmengine) from the original weights.')


class UnsafeCheckpointError(pickle.UnpicklingError):
    """The checkpoint is intact but its pickle uses a global, call or state that is refused.

    Attributes:
        path: the file.
        unsafe_global: the refused global's full name, when a global is what was refused.
    """

    def __init__(self, message: str, path: str, unsafe_global: Optional[str] = None):
        self.path, self.unsafe_global = path, unsafe_global
        super().__init__(
            f'{message}.\nmmsofteq loads checkpoints with torch\'s weights-only unpickler plus '
            'a checked allow-list for mmengine training checkpoints (docs/security.md). If you '
            'produced this file or trust its source, load it with full unpickling -- which runs '
            f'any code stored in it -- by setting {TRUST_ENV_VAR}=1 for this run or inside '
            '`with mmsofteq.utils.trusted_checkpoint_loading():`; to allow one more type, use '
            'torch.serialization.add_safe_globals([...]).')
