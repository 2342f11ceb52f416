"""Write the demo digit sets to disk: layouts, manifest, idempotence and safety.

Two folder layouts, both read by unmodified OpenMMLab datasets:

* segmentation, PASCAL VOC layout (mmseg ``BaseSegDataset`` with VOC's arguments)::

    demo_voc/
      JPEGImages/{train,val}_00000.jpg        RGB, size x size
      SegmentationClass/{train,val}_00000.png mode 'P', VOC palette; 0 bg, d+1 digit d, 255 band
      ImageSets/Segmentation/{train,val,trainval}.txt
      demo_manifest.json

* classification, ImageNet-like layout (mmpretrain ``CustomDataset``)::

    demo_digits_cls/
      train/<d>_<name>/train_00000.png        RGB, size x size; e.g. train/3_three/...
      val/<d>_<name>/val_00000.png
      meta/{train,val}.txt                    "<d>_<name>/<file>.png <d>" per line
      demo_manifest.json

Publishing is atomic: a set is written into a hidden sibling ``.<name>.tmp-<pid>`` and renamed
into place, so an interrupted run leaves no half-made set. Re-running with the same
parameters on an intact set does nothing. A set of ours with other parameters (or damaged
files) is regenerated. Anything else is not ours: a non-empty directory without our manifest,
or with extra files, is refused unless ``force=True`` (then it is *moved aside* to
``<name>.replaced-<timestamp>``, never deleted); a tree that looks like real PASCAL VOC data is
always refused.
"""
import hashlib
import io
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple, Union

import numpy as np
from PIL import Image

from softeq_lab.digits import render as digits_lib
from softeq_lab.digits.scans import load_digit_scans

GENERATOR = 'mmsofteq softeq_lab.digits.make_demo_data'
#: what the manifests of earlier versions say (the same sets, written by the converter when it
#: lived in tools/): still ours
EARLIER_GENERATORS = ('mmsofteq tools/dataset_converters/demo_digits.py', )
GENERATOR_VERSION = 1
MANIFEST_NAME = 'demo_manifest.json'
# More files than this that we did not write means "somebody's real data", never touched.
FOREIGN_FILE_LIMIT = 50
# Directory names that only a real VOC tree (or its augmented variants) has.
VOC_MARKERS = frozenset({'VOCdevkit', 'VOC2007', 'VOC2010', 'VOC2011', 'VOC2012', 'VOCaug',
                         'Annotations', 'SegmentationObject', 'SegmentationClassAug'})
SPLITS = ('train', 'val')
JPEG_QUALITY = 95
SOURCE_DESCRIPTION = ('scikit-learn load_digits(): the test set of the UCI ML "Optical '
                      'Recognition of Handwritten Digits" data (1,797 8x8 scans, values 0..16)')

Progress = Callable[[int, str], Callable[[], None]]  # (total, title) -> advance-by-one


class UnsafeTargetError(RuntimeError):
    """The output directory holds data we did not make; nothing was written."""


@dataclass(frozen=True)
class SegmentationSpec:
    """Parameters of the VOC-layout set; equal specs give byte-identical sets."""
    seed: int = 0
    num_train: int = 300
    num_val: int = 100
    size: int = 64
    boundary: int = 1
    max_digits: int = 3
    threshold: float = 0.5
    val_fraction: float = digits_lib.VAL_FRACTION
    task: str = 'seg'
    ink_fraction: Tuple[float, float] = digits_lib.INK_FRACTIONS['seg']


@dataclass(frozen=True)
class ClassificationSpec:
    """Parameters of the classification set; ``None`` counts use every scan of the split once."""
    seed: int = 0
    size: int = 32
    num_train: Optional[int] = None
    num_val: Optional[int] = None
    threshold: float = 0.5
    val_fraction: float = digits_lib.VAL_FRACTION
    task: str = 'cls'


Spec = Union[SegmentationSpec, ClassificationSpec]


# --------------------------------------------------------------------------- hashing / io
def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_digest(file_hashes: Dict[str, str]) -> str:
    """One sha256 over ``relative path -> sha256(bytes)`` pairs, in sorted path order."""
    digest = hashlib.sha256()
    for rel in sorted(file_hashes):
        digest.update(rel.encode() + b'\0' + file_hashes[rel].encode() + b'\n')
    return digest.hexdigest()


def hash_files(root: Path, rel_paths) -> Dict[str, str]:
    """``{rel: sha256(bytes)}`` of files under ``root``."""
    return {rel: _sha256((root / rel).read_bytes()) for rel in rel_paths}


def iter_files(root: Path):
    """Every file under ``root`` as a POSIX path relative to it (os.walk order)."""
    for dirpath, _, files in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root)
        for name in files:
            yield (rel_dir / name).as_posix()


class _Writer:
    """Writes files under a root and remembers their hashes."""

    def __init__(self, root: Path):
        self.root = root
        self.hashes: Dict[str, str] = {}

    def write(self, rel: str, data: bytes) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.hashes[rel] = _sha256(data)

    def write_image(self, rel: str, image: Image.Image, **save_args) -> None:
        buffer = io.BytesIO()
        image.save(buffer, **save_args)
        self.write(rel, buffer.getvalue())

    def write_lines(self, rel: str, lines: List[str]) -> None:
        self.write(rel, ''.join(line + '\n' for line in lines).encode())


def _no_progress(total: int, title: str) -> Callable[[], None]:
    return lambda: None


def _source_info(scans: np.ndarray) -> dict:
    try:
        import sklearn
        version = sklearn.__version__
    except ImportError:  # pragma: no cover
        version = None
    return dict(description=SOURCE_DESCRIPTION, loader='sklearn.datasets.load_digits',
                scikit_learn=version, num_scans=int(len(scans)),
                scans_sha256=_sha256(np.ascontiguousarray(scans).tobytes()))


def _manifest(spec: Spec, writer: _Writer, scans: np.ndarray, pools: Dict[str, np.ndarray],
              images: dict, label_digest: str, extra: dict) -> dict:
    return dict(
        generator=GENERATOR, generator_version=GENERATOR_VERSION,
        task=spec.task, params=json.loads(json.dumps(asdict(spec))), source=_source_info(scans),
        scan_pools={split: len(pool) for split, pool in pools.items()},
        counts={split: len(images[split]) for split in SPLITS}, images=images,
        label_sha256=label_digest, files=sorted(writer.hashes),
        content_sha256=content_digest(writer.hashes), complete=True, **extra)


def _write_manifest(root: Path, manifest: dict) -> None:
    text = json.dumps(manifest, indent=1, sort_keys=True)
    (root / MANIFEST_NAME).write_text(text + '\n')


# --------------------------------------------------------------------------- the two sets
def write_segmentation_set(root: Union[str, Path], spec: SegmentationSpec = SegmentationSpec(),
                           progress: Progress = _no_progress) -> dict:
    """Write the VOC-layout set into the (empty) directory ``root``; returns the manifest."""
    root = Path(root)
    if spec.num_train < 1 or spec.num_val < 1:
        raise ValueError(f'need num_train, num_val >= 1, got {spec.num_train}, {spec.num_val}')
    scans, digits = load_digit_scans()
    pools = dict(zip(SPLITS, digits_lib.split_scans(digits, spec.seed, spec.val_fraction)))
    writer = _Writer(root)
    palette = digits_lib.voc_colormap()
    label_digest = hashlib.sha256()
    images: Dict[str, Dict[str, List[int]]] = {}
    advance = progress(spec.num_train + spec.num_val, 'demo_voc (segmentation)')
    for split, count in zip(SPLITS, (spec.num_train, spec.num_val)):
        rng = digits_lib.split_rng('seg', split, spec.seed)
        stream = digits_lib.ScanStream(pools[split], rng)
        images[split] = {}
        for index in range(count):
            name = f'{split}_{index:05d}'
            image, label, placements = digits_lib.compose_segmentation_sample(
                rng, scans, digits, stream, size=spec.size, max_digits=spec.max_digits,
                boundary=spec.boundary, threshold=spec.threshold,
                ink_fraction=tuple(spec.ink_fraction))
            writer.write_image(f'JPEGImages/{name}.jpg', Image.fromarray(image, mode='RGB'),
                               format='JPEG', quality=JPEG_QUALITY)
            writer.write_image(f'SegmentationClass/{name}.png',
                               digits_lib.label_to_palette_image(label, palette), format='PNG')
            label_digest.update(name.encode() + b'\0' + label.tobytes())
            images[split][name] = [p.scan_id for p in placements]
            advance()
    names = {split: sorted(images[split]) for split in SPLITS}
    for split in SPLITS:
        writer.write_lines(f'ImageSets/Segmentation/{split}.txt', names[split])
    writer.write_lines('ImageSets/Segmentation/trainval.txt', names['train'] + names['val'])
    manifest = _manifest(
        spec, writer, scans, pools, images, label_digest.hexdigest(),
        dict(classes=list(digits_lib.DEMO_CLASSES),
             palette=[list(rgb) for rgb in digits_lib.DEMO_PALETTE],
             ignore_index=digits_lib.IGNORE_INDEX))
    _write_manifest(root, manifest)
    return manifest


def write_classification_set(root: Union[str, Path],
                             spec: ClassificationSpec = ClassificationSpec(),
                             progress: Progress = _no_progress) -> dict:
    """Write the class-folder set into the (empty) directory ``root``; returns the manifest."""
    root = Path(root)
    scans, digits = load_digit_scans()
    pools = dict(zip(SPLITS, digits_lib.split_scans(digits, spec.seed, spec.val_fraction)))
    counts = {split: len(pools[split]) if want is None else want
              for split, want in zip(SPLITS, (spec.num_train, spec.num_val))}
    if min(counts.values()) < 1:
        raise ValueError(f'need at least one image per split, got {counts}')
    writer = _Writer(root)
    label_digest = hashlib.sha256()
    images: Dict[str, Dict[str, int]] = {}
    advance = progress(sum(counts.values()), 'demo_digits_cls (classification)')
    for split in SPLITS:
        rng = digits_lib.split_rng('cls', split, spec.seed)
        stream = digits_lib.ScanStream(pools[split], rng)
        images[split], lines = {}, []
        for index in range(counts[split]):
            scan_id = stream.next()
            digit = int(digits[scan_id])
            image, _ = digits_lib.compose_classification_sample(
                rng, scans, digits, scan_id, size=spec.size, threshold=spec.threshold)
            rel = f'{digits_lib.DEMO_CLS_FOLDERS[digit]}/{split}_{index:05d}.png'
            writer.write_image(f'{split}/{rel}', Image.fromarray(image, mode='RGB'),
                               format='PNG')
            label_digest.update(rel.encode() + b'\0' + bytes([digit]))
            images[split][rel] = scan_id
            lines.append(f'{rel} {digit}')
            advance()
        writer.write_lines(f'meta/{split}.txt', lines)
    manifest = _manifest(spec, writer, scans, pools, images, label_digest.hexdigest(),
                         dict(classes=list(digits_lib.DEMO_CLS_CLASSES),
                              folders=list(digits_lib.DEMO_CLS_FOLDERS)))
    _write_manifest(root, manifest)
    return manifest


WRITERS = {'seg': write_segmentation_set, 'cls': write_classification_set}


# --------------------------------------------------------------------------- target checks
@dataclass(frozen=True)
class TargetState:
    """What is at the output path. ``kind`` is one of ``missing``, ``empty``, ``up_to_date``,
    ``stale`` (ours, to regenerate), ``foreign`` (refused unless forced) or ``voc`` (refused)."""
    kind: str
    reason: str


def read_manifest(root: Union[str, Path]) -> Optional[dict]:
    """Our manifest under ``root``, or None when absent / unreadable / not ours."""
    path = Path(root) / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or \
            manifest.get('generator') not in (GENERATOR, ) + EARLIER_GENERATORS:
        return None
    return manifest


def verify_set(root: Union[str, Path]) -> Tuple[bool, str]:
    """Whether ``root`` holds exactly the files its manifest lists, with matching content."""
    root = Path(root)
    manifest = read_manifest(root)
    if manifest is None or not manifest.get('complete'):
        return False, 'no complete manifest'
    listed = set(manifest.get('files', []))
    present = set(iter_files(root)) - {MANIFEST_NAME}
    if listed != present:
        missing, extra = len(listed - present), len(present - listed)
        return False, f'{missing} listed files missing, {extra} unlisted files present'
    if content_digest(hash_files(root, sorted(listed))) != manifest.get('content_sha256'):
        return False, 'file contents differ from the manifest'
    return True, 'intact'


def _looks_like_voc(root: Path) -> Optional[str]:
    """Why ``root`` (an existing directory) looks like real VOC data, or None."""
    if root.name in VOC_MARKERS:
        return f'is named {root.name!r}'
    for depth_root, dirs, _ in os.walk(root):
        depth = len(Path(depth_root).relative_to(root).parts)
        hits = VOC_MARKERS.intersection(dirs)
        if hits:
            return f'contains {sorted(hits)[0]!r}'
        if depth >= 2:
            dirs[:] = []
    return None


def inspect_target(root: Union[str, Path], spec: Spec) -> TargetState:
    """Classify what is at ``root`` relative to the set ``spec`` would produce."""
    root = Path(root)
    if not root.exists():
        return TargetState('missing', 'does not exist')
    if not root.is_dir():
        return TargetState('foreign', 'exists and is not a directory')
    voc = _looks_like_voc(root)
    if voc:
        return TargetState('voc', f'looks like a real PASCAL VOC tree ({voc})')
    manifest = read_manifest(root)
    ours = set(manifest.get('files', [])) | {MANIFEST_NAME} if manifest else set()
    foreign = []
    for rel in iter_files(root):
        if rel not in ours:
            foreign.append(rel)
            if len(foreign) > FOREIGN_FILE_LIMIT:
                return TargetState('voc', f'holds more than {FOREIGN_FILE_LIMIT} files we did '
                                   'not write (real data?)')
    if manifest is None:
        if foreign:
            return TargetState('foreign', f'has {len(foreign)} files and no {MANIFEST_NAME}')
        return TargetState('empty', 'is empty')
    if foreign:
        return TargetState('foreign', f'has {len(foreign)} files not listed in {MANIFEST_NAME} '
                           f'(e.g. {foreign[0]})')
    if manifest.get('task') != spec.task:
        return TargetState('foreign', f'holds the {manifest.get("task")!r} demo set, not '
                           f'{spec.task!r}')
    if manifest.get('generator_version') != GENERATOR_VERSION:
        return TargetState('stale', f'was made by generator version '
                           f'{manifest.get("generator_version")}, this is {GENERATOR_VERSION}')
    if manifest.get('params') != json.loads(json.dumps(asdict(spec))):
        return TargetState('stale', f'was made with other parameters {manifest.get("params")}')
    intact, why = verify_set(root)
    if not intact:
        return TargetState('stale', f'is damaged: {why}')
    return TargetState('up_to_date', 'already generated with the same parameters')


# --------------------------------------------------------------------------- publishing
def _refuse_dangerous(root: Path) -> None:
    resolved = root.resolve()
    cwd = Path.cwd().resolve()
    if resolved == Path(resolved.anchor) or resolved == Path.home().resolve():
        raise UnsafeTargetError(f'refusing to use {resolved} as a demo data directory')
    if resolved == cwd or resolved in cwd.parents:
        raise UnsafeTargetError(f'{resolved} contains the current directory; pick a subfolder '
                                'such as data/demo_voc')


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's live process
        return True
    return True


def _remove_stale_temporaries(root: Path) -> None:
    """Delete ``.<name>.tmp-<pid>`` / ``.<name>.old-<pid>`` siblings of dead runs."""
    if not root.parent.is_dir():
        return
    for prefix in (f'.{root.name}.tmp-', f'.{root.name}.old-'):
        for path in root.parent.glob(prefix + '*'):
            pid = path.name[len(prefix):]
            if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)


def build_demo_set(root: Union[str, Path], spec: Spec, force: bool = False,
                   progress: Progress = _no_progress,
                   log: Callable[[str], None] = lambda message: None) -> str:
    """Make the set ``spec`` at ``root`` unless it is already there; returns what happened:
    ``'already generated'``, ``'generated'``, ``'regenerated'`` or ``'replaced'`` (forced over
    foreign content, which was moved to ``<root>.replaced-<timestamp>``).

    Raises:
        UnsafeTargetError: ``root`` holds data we did not make (and ``force`` is False), or
            looks like a real VOC tree / many foreign files (always), or is a dangerous path.
    """
    root = Path(root).absolute()
    _refuse_dangerous(root)
    _remove_stale_temporaries(root)
    state = inspect_target(root, spec)
    if state.kind == 'up_to_date':
        log(f'{root}: {state.reason}; nothing to do')
        return 'already generated'
    if state.kind == 'voc':
        raise UnsafeTargetError(f'{root} {state.reason}; refusing to write there even with '
                                '--force. Choose another directory, e.g. data/demo_voc')
    if state.kind == 'foreign' and not force:
        raise UnsafeTargetError(f'{root} {state.reason}; not ours, so nothing was written. '
                                'Use --force to move it aside and generate anyway')
    if state.kind == 'foreign' and not root.is_dir():
        raise UnsafeTargetError(f'{root} {state.reason}')
    if state.kind == 'stale':
        log(f'{root}: {state.reason}; regenerating')

    root.parent.mkdir(parents=True, exist_ok=True)
    temporary = root.parent / f'.{root.name}.tmp-{os.getpid()}'
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir()
    try:
        WRITERS[spec.task](temporary, spec, progress)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise

    aside = None
    if state.kind == 'foreign':
        aside = root.parent / f'{root.name}.replaced-{time.strftime("%Y%m%dT%H%M%S")}'
        os.rename(root, aside)
        log(f'{root}: {state.reason}; moved it to {aside}')
    elif root.exists():  # an empty directory or our own stale set
        aside = root.parent / f'.{root.name}.old-{os.getpid()}'
        os.rename(root, aside)
    os.rename(temporary, root)
    if aside is not None and state.kind != 'foreign':
        if aside.is_symlink():  # a symlinked set: drop the link, leave its target alone
            aside.unlink()
        else:
            shutil.rmtree(aside, ignore_errors=True)
    return {'missing': 'generated', 'empty': 'generated', 'stale': 'regenerated',
            'foreign': 'replaced'}[state.kind]
