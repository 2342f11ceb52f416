"""Tunability of soft invariance on real handwritten digits.

A network whose first layer is a linear map on the flattened ``k x k`` pixel grid,

    h = ReLU(W_eff x + b),   W_eff = θ P,   logits = V h + c,

is trained from scratch on scikit-learn's ``load_digits`` scans for each softness ``s``, where
``P = invariant_projector(group, k, softness=s).matrix`` (``N x N``, ``N = k²``). At ``s = 0``
every hidden unit is exactly invariant under the group's exact grid action (quarter turns, and
the left-right flip for ``O2``); at ``s = 1`` ``P = I`` and the model is an ordinary MLP.

Data. The 1,797 real 8x8 scans (values 0..16) are scaled to ``[0, 1]``, upsampled bilinearly
to ``digit_size x digit_size`` and zero-padded, centred, to a ``canvas x canvas`` grid. With
``digit_size / √2 <= canvas`` (default 15 in 23: corner radius 10.6 px, inscribed disc 11.5 px)
every rotation about the centre keeps the whole digit in view. One stratified, seeded split
(75 % train / 25 % test by default) is shared by all runs. Pixels are divided by one scalar
(the training pixels' standard deviation), without a mean shift, so the background stays 0 and
the zero fill of a rotation is consistent with it.

Metrics (``docs/results.md``; the rotated evaluation), on the test split:

* ``Acc``: accuracy (%) on the clean test images;
* ``aAcc``: accuracy (%) on test images each rotated by its own angle θ ~ U(−180°, 180°)
  (bilinear, centre pivot, zero fill, no expand); the angle of test sample ``i`` is
  ``numpy.random.default_rng([angle_seed, i]).uniform(low, high)`` (the convention of
  ``mmsofteq.nn.evaluation_angles.AngleSampler``), the same for every run;
* ``cAcc = sqrt(Acc · aAcc)``;
* ``iErr = 100 · mean_x KL(softmax f(x) ‖ softmax f(g x))`` with ``g x`` the same rotated image.

Diagnostics: ``iErr_rot90`` (``g`` = ``torch.rot90``, counter-clockwise) and ``iErr_flip``
(``g`` = left-right flip) use the exact grid symmetries; ``aAcc/cAcc/iErr_small`` repeat the
rotated metrics with θ ~ U(−small_angle, small_angle) (the rotated evaluation's ±30° by default; same
seeding).

Everything here is plain torch/numpy (scikit-learn for the data, matplotlib for the plot,
imported lazily); the projectors come from :mod:`mmsofteq.projection`.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmsofteq.evaluation.statistics import kl_divergence_from_logits
from mmsofteq.groups import DEFAULT_ANGLE_RANGE
from mmsofteq.projection import invariant_projector
from mmsofteq.utils import rotate_field, text_table

NUM_CLASSES = 10
METRIC_COLUMNS = ('acc', 'aacc', 'cacc', 'ierr', 'ierr_rot90', 'ierr_flip', 'aacc_small',
                  'cacc_small', 'ierr_small')
RUN_COLUMNS = ('group', 'softness', 'seed', 'canvas', 'hidden', 'epochs', 'kept', 'total',
               'null_dim', 'bound') + METRIC_COLUMNS + ('train_acc', 'final_loss',
                                                         'train_seconds')


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DigitCanvases:
    """The padded digits, split once.

    Attributes:
        train_images / test_images: ``(n, canvas, canvas)`` float32, normalised.
        train_labels / test_labels: ``(n,)`` int64 digits 0..9.
        canvas: grid side ``k``.
        pixel_scale: the divisor applied after scaling scans to ``[0, 1]``.
    """

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    canvas: int
    pixel_scale: float


def load_digit_canvases(canvas: int = 23, digit_size: int = 15, test_fraction: float = 0.25,
                        split_seed: int = 0) -> DigitCanvases:
    """Load ``sklearn.datasets.load_digits`` (bundled, no download) as rotation-safe canvases.

    Args:
        canvas: side ``k`` of the square grid the network sees (``N = k²`` inputs).
        digit_size: side of the bilinearly upsampled 8x8 scan; ``canvas - digit_size`` must be
            even (the digit is centred) and ``digit_size·√2 <= canvas`` (the digit's square fits
            in the canvas's inscribed disc, so any rotation about the centre keeps it in view).
        test_fraction: share of each digit's scans in the test split (stratified).
        split_seed: ``random_state`` of the split.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if (canvas - digit_size) % 2 or digit_size < 8:
        raise ValueError(f'canvas - digit_size must be even and digit_size >= 8, got '
                         f'canvas={canvas}, digit_size={digit_size}')
    if digit_size * math.sqrt(2.0) > canvas:
        raise ValueError(f'digit_size={digit_size} does not fit in the inscribed disc of a '
                         f'{canvas}x{canvas} canvas (need digit_size*sqrt(2) <= canvas)')
    digits = load_digits()
    scans = torch.from_numpy(digits.images.astype(np.float32) / 16.0)[:, None]
    upsampled = F.interpolate(scans, size=(digit_size, digit_size), mode='bilinear',
                              align_corners=False)[:, 0]
    pad = (canvas - digit_size) // 2
    images = F.pad(upsampled, (pad, pad, pad, pad))
    labels = torch.from_numpy(digits.target.astype(np.int64))
    train_index, test_index = train_test_split(np.arange(len(labels)), test_size=test_fraction,
                                               stratify=digits.target, random_state=split_seed)
    train_index, test_index = torch.from_numpy(train_index), torch.from_numpy(test_index)
    pixel_scale = float(images[train_index].std())
    images = images / pixel_scale
    return DigitCanvases(images[train_index].contiguous(), labels[train_index],
                         images[test_index].contiguous(), labels[test_index], canvas,
                         pixel_scale)


def evaluation_angles(num: int, seed: int = 0, low: float = -180.0,
                      high: float = 180.0) -> np.ndarray:
    """``(num,)`` angles in degrees; sample ``i`` gets ``default_rng([seed, i]).uniform``."""
    return np.array([np.random.default_rng([seed, index]).uniform(low, high)
                     for index in range(num)], dtype=np.float64)


def rotate_images(images: torch.Tensor, angles_degrees: Sequence[float]) -> torch.Tensor:
    """Rotate each image ``(B, k, k)`` by its angle (counter-clockwise on screen) about its
    centre: :func:`mmsofteq.utils.rotate_field` (bilinear, zero fill, no expand; exact for
    multiples of 90°)."""
    angles = list(angles_degrees)
    if images.ndim != 3 or len(angles) != images.shape[0]:
        raise ValueError(f'need (B, k, k) images and one angle per image, got '
                         f'{tuple(images.shape)} and {len(angles)} angles')
    return torch.stack([rotate_field(image, angle) for image, angle in zip(images, angles)])


# ----------------------------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------------------------
class SoftInvariantLinear(nn.Module):
    """``y = x_flat θ_effᵀ + b`` with ``θ_eff = θ P`` (``P`` the soft invariant projector).

    Args:
        canvas: grid side ``k``; inputs are ``(B, k, k)`` or ``(B, k²)`` (row-major).
        out_features: ``H``.
        group: ``'SO2'`` or ``'O2'`` (any group ``invariant_projector`` accepts).
        softness: in ``[0, 1]``; 1 is the identity (no matmul with ``P`` in the forward).
        init_std: std of the normal init of ``θ`` (default ``1/sqrt(k²)``); ``b`` starts at 0.
        angle_range: the rotations (degrees) whose asymmetry orders the directions
            (``generator='resampled'``): the sweep passes its evaluation range.

    ``P`` is a non-persistent float32 buffer (derived data); ``certificate`` is the projector's
    ``ProjectionCertificate`` (kept/total directions, bound ``β``).
    """

    def __init__(self, canvas: int, out_features: int, group: str, softness: float,
                 init_std: Optional[float] = None,
                 angle_range: Tuple[float, float] = DEFAULT_ANGLE_RANGE) -> None:
        super().__init__()
        in_features = canvas * canvas
        projector = invariant_projector(group, canvas, softness=softness,
                                        angle_range=angle_range)
        self.canvas, self.group, self.softness = canvas, group, float(softness)
        self.certificate = projector.certificate
        self.is_identity = projector.is_identity
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))
        nn.init.normal_(self.weight, 0.0, init_std if init_std else in_features**-0.5)
        self.register_buffer('projector',
                             None if self.is_identity else projector.as_tensor(
                                 torch.float32).clone(), persistent=False)

    def effective_weight(self) -> torch.Tensor:
        """``θ P`` (``(H, N)``); ``θ`` itself at softness 1."""
        if self.is_identity:
            return self.weight
        return self.weight @ self.projector.to(self.weight.dtype)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return F.linear(images.reshape(images.shape[0], -1), self.effective_weight(), self.bias)

    def extra_repr(self) -> str:
        cert = self.certificate
        return (f'canvas={self.canvas}, out_features={self.weight.shape[0]}, group={self.group},'
                f' softness={self.softness}, kept={cert.kept}/{cert.total}, '
                f'bound={cert.bound:.4g}')


class TunabilityNet(nn.Module):
    """``SoftInvariantLinear(k² → H) → ReLU → Linear(H → 10)``."""

    def __init__(self, canvas: int, hidden: int, group: str, softness: float,
                 angle_range: Tuple[float, float] = DEFAULT_ANGLE_RANGE) -> None:
        super().__init__()
        self.first = SoftInvariantLinear(canvas, hidden, group, softness,
                                         angle_range=angle_range)
        self.head = nn.Linear(hidden, NUM_CLASSES)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(F.relu(self.first(images)))


# ----------------------------------------------------------------------------------------------
# Metrics (logits → numbers)
# ----------------------------------------------------------------------------------------------
def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy in percent; ``logits`` ``(n, C)``, ``labels`` ``(n,)``."""
    return float((logits.argmax(dim=1) == labels).double().mean() * 100.0)


def consistency_accuracy(acc: float, aacc: float) -> float:
    """``cAcc = sqrt(Acc · aAcc)`` (same unit as the inputs)."""
    return math.sqrt(acc * aacc)


def invariance_error(clean_logits: torch.Tensor, transformed_logits: torch.Tensor) -> float:
    """``100 · mean_x KL(softmax f(x) ‖ softmax f(gx))`` (natural log), inputs ``(n, C)``.

    ``KL(p ‖ q) = Σ_c p_c (log p_c − log q_c)`` with ``p`` from the clean input.
    """
    divergence = kl_divergence_from_logits(clean_logits.double(), transformed_logits.double(),
                                           dim=1)
    return float(divergence.mean() * 100.0)


# ----------------------------------------------------------------------------------------------
# Runs
# ----------------------------------------------------------------------------------------------
@dataclass
class SweepConfig:
    """Everything that defines a sweep (the CLI's defaults are these)."""

    groups: Tuple[str, ...] = ('SO2', 'O2')
    softness: Tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
    seeds: Tuple[int, ...] = (0, 1, 2)
    canvas: int = 23
    digit_size: int = 15
    hidden: int = 128
    epochs: int = 60
    batch_size: int = 64
    lr: float = 1e-3
    test_fraction: float = 0.25
    split_seed: int = 0
    angle_seed: int = 0
    angle_low: float = -180.0
    angle_high: float = 180.0
    small_angle: float = 30.0
    threads: int = 1

    def describe(self) -> str:
        return (f'canvas {self.canvas}x{self.canvas} (digit {self.digit_size}x'
                f'{self.digit_size}), hidden {self.hidden}, {self.epochs} epochs, batch '
                f'{self.batch_size}, Adam lr {self.lr:g}, no augmentation, split seed '
                f'{self.split_seed} ({1 - self.test_fraction:.0%} train), angles '
                f'U({self.angle_low:g}°, {self.angle_high:g}°) and U(±{self.small_angle:g}°) '
                f'seed {self.angle_seed}, torch threads {self.threads}')


@dataclass(frozen=True)
class EvaluationSet:
    """Test images with their fixed transforms (shared by every run of a sweep)."""

    clean: torch.Tensor
    rotated: torch.Tensor
    rot90: torch.Tensor
    flipped: torch.Tensor
    rotated_small: torch.Tensor
    labels: torch.Tensor

    @classmethod
    def build(cls, data: DigitCanvases, config: SweepConfig) -> 'EvaluationSet':
        angles = evaluation_angles(len(data.test_labels), config.angle_seed, config.angle_low,
                                   config.angle_high)
        small_angles = evaluation_angles(len(data.test_labels), config.angle_seed,
                                         -config.small_angle, config.small_angle)
        clean = data.test_images
        return cls(clean, rotate_images(clean, angles), torch.rot90(clean, 1, dims=(-2, -1)),
                   torch.flip(clean, dims=(-1, )), rotate_images(clean, small_angles),
                   data.test_labels)


@torch.no_grad()
def evaluate(model: nn.Module, evaluation: EvaluationSet) -> Dict[str, float]:
    """Acc, aAcc, cAcc, iErr (+ the exact-symmetry diagnostics) of ``model``."""
    model.eval()
    clean = model(evaluation.clean)
    rotated = model(evaluation.rotated)
    rotated_small = model(evaluation.rotated_small)
    acc, aacc = accuracy(clean, evaluation.labels), accuracy(rotated, evaluation.labels)
    aacc_small = accuracy(rotated_small, evaluation.labels)
    return dict(acc=acc, aacc=aacc, cacc=consistency_accuracy(acc, aacc),
                ierr=invariance_error(clean, rotated),
                ierr_rot90=invariance_error(clean, model(evaluation.rot90)),
                ierr_flip=invariance_error(clean, model(evaluation.flipped)),
                aacc_small=aacc_small, cacc_small=consistency_accuracy(acc, aacc_small),
                ierr_small=invariance_error(clean, rotated_small))


def run_one(data: DigitCanvases, evaluation: EvaluationSet, group: str, softness: float,
            seed: int, config: SweepConfig) -> Dict[str, object]:
    """Train one model from scratch (seeded init and batch order) and evaluate it."""
    torch.manual_seed(seed)
    model = TunabilityNet(data.canvas, config.hidden, group, softness,
                          angle_range=(config.angle_low, config.angle_high))
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    order = torch.Generator().manual_seed(seed)
    images, labels = data.train_images, data.train_labels
    start = time.perf_counter()
    loss = torch.tensor(float('nan'))
    for _ in range(config.epochs):
        model.train()
        permutation = torch.randperm(len(labels), generator=order)
        for begin in range(0, len(labels), config.batch_size):
            batch = permutation[begin:begin + config.batch_size]
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    train_seconds = time.perf_counter() - start
    with torch.no_grad():
        model.eval()
        train_logits = model(images)
        final_loss = float(F.cross_entropy(train_logits, labels))
    cert = model.first.certificate
    row = dict(group=group, softness=float(softness), seed=int(seed), canvas=data.canvas,
               hidden=config.hidden, epochs=config.epochs, kept=cert.kept, total=cert.total,
               null_dim=cert.null_dim, bound=cert.bound)
    row.update(evaluate(model, evaluation))
    row.update(train_acc=accuracy(train_logits, labels), final_loss=final_loss,
               train_seconds=train_seconds)
    return row


def run_sweep(config: SweepConfig,
              log: Optional[Callable[[str], None]] = print) -> List[Dict[str, object]]:
    """All ``groups × softness × seeds`` runs, in that order; returns one row per run."""
    torch.set_num_threads(config.threads)
    data = load_digit_canvases(config.canvas, config.digit_size, config.test_fraction,
                               config.split_seed)
    evaluation = EvaluationSet.build(data, config)
    rows = []
    for group in config.groups:
        for softness in config.softness:
            for seed in config.seeds:
                row = run_one(data, evaluation, group, softness, seed, config)
                rows.append(row)
                if log is not None:
                    log(f'[{len(rows):3d}] {group} s={softness:<4g} seed={seed} '
                        f'kept={row["kept"]}/{row["total"]} Acc={row["acc"]:.2f} '
                        f'aAcc={row["aacc"]:.2f} cAcc={row["cacc"]:.2f} '
                        f'iErr={row["ierr"]:.2f} ({row["train_seconds"]:.1f}s)')
    return rows


# ----------------------------------------------------------------------------------------------
# Reporting
# ----------------------------------------------------------------------------------------------
def summarise(rows: Sequence[Dict[str, object]]) -> List[Dict[str, object]]:
    """Per ``(group, softness)`` (first-seen order): mean and sample std (ddof=1; 0 for one
    seed) of every metric, with the projector's kept/total/bound and the number of seeds."""
    keys: List[Tuple[str, float]] = []
    for row in rows:
        key = (row['group'], float(row['softness']))
        if key not in keys:
            keys.append(key)
    summary = []
    for group, softness in keys:
        members = [r for r in rows if r['group'] == group and float(r['softness']) == softness]
        entry = dict(group=group, softness=softness, seeds=len(members),
                     kept=members[0]['kept'], total=members[0]['total'],
                     bound=members[0]['bound'])
        entry.update(mean_and_std(members, METRIC_COLUMNS))
        summary.append(entry)
    return summary


def mean_and_std(members: Sequence[Dict[str, object]],
                 columns: Sequence[str]) -> Dict[str, float]:
    """``{column: mean, column_std: sample std (ddof=1; 0 for one run)}`` over ``members``."""
    stats = {}
    for column in columns:
        values = np.array([float(member[column]) for member in members])
        stats[column] = float(values.mean())
        stats[column + '_std'] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return stats


MAIN_TABLE = ('acc', 'aacc', 'cacc', 'ierr')
DIAGNOSTIC_TABLE = ('ierr_rot90', 'ierr_flip', 'aacc_small', 'cacc_small', 'ierr_small')
COLUMN_TITLES = dict(acc='Acc', aacc='aAcc', cacc='cAcc', ierr='iErr', ierr_rot90='iErr rot90',
                     ierr_flip='iErr flip', aacc_small='aAcc ±small', cacc_small='cAcc ±small',
                     ierr_small='iErr ±small')


def markdown_table(summary: Sequence[Dict[str, object]],
                   columns: Sequence[str] = MAIN_TABLE, small_angle: float = 30.0) -> str:
    """A markdown table of ``columns`` (mean ± std over seeds) per (group, softness), with
    the projector's kept/total directions and certificate bound β."""
    titles = [COLUMN_TITLES[c].replace('small', f'{small_angle:g}°') for c in columns]
    rows = []
    for entry in summary:
        cells = [entry['group'], f'{entry["softness"]:g}', f'{entry["kept"]}/{entry["total"]}',
                 f'{entry["bound"]:.3g}']
        cells += [f'{entry[column]:.2f} ± {entry[column + "_std"]:.2f}' for column in columns]
        rows.append(cells)
    return text_table(['group', 'softness', 'kept/total', 'bound β'] + titles, rows,
                      style='markdown')


def plot_summary(summary: Sequence[Dict[str, object]], path: str, title: str = '') -> None:
    """Two panels: iErr vs softness (log scale when all positive); Acc / aAcc / cAcc vs
    softness (error bars: std)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    groups = list(dict.fromkeys(entry['group'] for entry in summary))
    styles = {0: ('-', 'o'), 1: ('--', 's'), 2: (':', '^')}
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    colors = dict(acc='tab:blue', aacc='tab:orange', cacc='tab:green')
    names = dict(acc='Acc', aacc='aAcc', cacc='cAcc')
    for index, group in enumerate(groups):
        line, marker = styles[index % 3]
        entries = sorted((e for e in summary if e['group'] == group),
                         key=lambda e: e['softness'])
        softness = [e['softness'] for e in entries]
        left.errorbar(softness, [e['ierr'] for e in entries], [e['ierr_std'] for e in entries],
                      linestyle=line, marker=marker, capsize=3, label=group)
        for column in ('acc', 'aacc', 'cacc'):
            right.errorbar(softness, [e[column] for e in entries],
                           [e[column + '_std'] for e in entries], linestyle=line,
                           marker=marker, capsize=3, color=colors[column],
                           label=f'{names[column]} {group}')
    if all(e['ierr'] > 0 for e in summary):
        left.set_yscale('log')  # strict and soft models differ by orders of magnitude
    left.set(xlabel='softness', ylabel='iErr (KL × 100)',
             title='invariance error (θ ~ U(±180°))')
    right.set(xlabel='softness', ylabel='accuracy (%)', title='Acc / aAcc / cAcc')
    left.legend()
    right.legend(fontsize=7, ncol=2)
    for axis in (left, right):
        axis.grid(alpha=0.3)
    save_figure(figure, path, title)


def save_figure(figure, path: str, title: str = '') -> None:
    """Title (if any), tight layout, PNG at 90 dpi, figure closed."""
    import matplotlib.pyplot as plt

    if title:
        figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def config_dict(config) -> Dict[str, object]:
    """The experiment's config dataclass as a JSON-ready dict."""
    return asdict(config)
