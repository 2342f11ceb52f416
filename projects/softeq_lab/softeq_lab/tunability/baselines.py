"""The rotation baselines side by side on real handwritten digits (the library of
``softeq_lab.tunability.baselines_digits``).

Every method is an mmpretrain ``ImageClassifier`` built through the mmsofteq registry, trained
from scratch with the same loop (Adam, no augmentation, seeded init and batch order) on the
canvases of :func:`tunability.load_digit_canvases` (scikit-learn's digits, zero-padded so
every rotation keeps the digit in view) and scored on the same test images with the metrics
of :mod:`tunability` (Acc, aAcc / cAcc / iErr for θ ~ U(−180°, 180°), iErr under the exact
quarter turn and flip, and the ±small-angle diagnostics):

=================  ===========================================================================
method             model
=================  ===========================================================================
``softeq:<s>``     the base CNN through ``mmsofteq.SoftEqModel`` (``group='SO2'``, every 3×3
                   conv projected, ``min_kernel_size=2``) at softness ``s``; ``s = 1`` is the
                   base CNN itself (Base), ``s = 0`` strict SoftEq
``gcnn``           ``mmsofteq.GCNN`` (C4) backbone + global average pooling + linear head
``orbit``          ``mmsofteq.OrbitAveragedModel`` (C4, mean logits) around the trained base
                   CNN (equivarification at test time: same weights as Base)
``canon``          ``mmsofteq.CanonicalizedModel`` (C4 GCNN canonicaliser) around the base CNN,
                   both trained from scratch with the prior loss
=================  ===========================================================================

The base CNN is mmpretrain's ``ResNet_CIFAR`` (3×3 stem, no max-pool) at depth 18 and width
``--width``, one input channel. Scores: every method goes through its predict path
(``mode='predict'``); the logits of the metrics are ``log pred_score`` (clamped at 1e-30),
whose softmax is the prediction itself.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from softeq_lab.tunability import core as tunability
from mmsofteq.utils import text_table

METRICS = ('acc', 'aacc', 'cacc', 'ierr', 'ierr_rot90', 'ierr_flip', 'aacc_small',
           'cacc_small', 'ierr_small')
RUN_COLUMNS = ('method', 'label', 'seed', 'params') + METRICS + ('train_acc', 'final_loss',
                                                                  'train_seconds')
MAIN_TABLE = ('acc', 'aacc', 'cacc', 'ierr')
DIAGNOSTIC_TABLE = ('ierr_rot90', 'ierr_flip', 'aacc_small', 'cacc_small', 'ierr_small')
_SCORE_FLOOR = 1e-30


@dataclass
class ComparisonConfig:
    """Everything that defines a comparison (the CLI's defaults are these)."""

    methods: Tuple[str, ...] = ('softeq:1', 'softeq:0.9', 'softeq:0.5', 'softeq:0', 'gcnn',
                                'orbit', 'canon')
    seeds: Tuple[int, ...] = (0, )
    canvas: int = 24
    digit_size: int = 16
    width: int = 16
    gcnn_channels: Tuple[int, ...] = (8, 16, 32)
    epochs: int = 8
    batch_size: int = 64
    lr: float = 1e-3
    prior_weight: float = 1.0
    test_fraction: float = 0.25
    split_seed: int = 0
    angle_seed: int = 0
    small_angle: float = 30.0
    threads: int = 1

    def describe(self) -> str:
        return (f'canvas {self.canvas}x{self.canvas} (digit {self.digit_size}x'
                f'{self.digit_size}), base CNN ResNet_CIFAR-18 width {self.width}, GCNN C4 '
                f'channels {list(self.gcnn_channels)}, {self.epochs} epochs, batch '
                f'{self.batch_size}, Adam lr {self.lr:g}, no augmentation, Canon. prior weight '
                f'{self.prior_weight:g}, split seed {self.split_seed}, angles U(±180°) and '
                f'U(±{self.small_angle:g}°) seed {self.angle_seed}, torch threads {self.threads}')

    def sweep_config(self) -> 'tunability.SweepConfig':
        """The :class:`tunability.SweepConfig` that fixes the shared evaluation set."""
        return tunability.SweepConfig(canvas=self.canvas, digit_size=self.digit_size,
                                      test_fraction=self.test_fraction,
                                      split_seed=self.split_seed, angle_seed=self.angle_seed,
                                      small_angle=self.small_angle, threads=self.threads)


# ---------------------------------------------------------------------------------- models
def parse_method(method: str) -> Tuple[str, Optional[float]]:
    """``'softeq:0.5'`` → ``('softeq', 0.5)``; ``'gcnn'`` → ``('gcnn', None)``."""
    kind, _, value = method.partition(':')
    if kind == 'softeq':
        softness = float(value)
        if not 0.0 <= softness <= 1.0:
            raise ValueError(f'softness of {method!r} must be in [0, 1]')
        return kind, softness
    if kind in ('gcnn', 'orbit', 'canon') and not value:
        return kind, None
    raise ValueError(f"unknown method {method!r}: use softeq:<softness>, gcnn, orbit or canon")


def method_label(method: str) -> str:
    kind, softness = parse_method(method)
    if kind == 'softeq':
        if softness == 1.0:
            return 'Base (SoftEq s=1)'
        return 'strict SoftEq (s=0)' if softness == 0.0 else f'SoftEq s={softness:g}'
    return dict(gcnn='GCNN-C4 (scratch)', orbit='Orbit C4 (Base weights)',
                canon='Canon. C4')[kind]


def base_cnn(width: int) -> dict:
    """mmpretrain ``ImageClassifier``: ResNet_CIFAR-18 at ``width``, 1 channel, 10 classes."""
    return dict(type='ImageClassifier',
                backbone=dict(type='ResNet_CIFAR', depth=18, in_channels=1, stem_channels=width,
                              base_channels=width),
                neck=dict(type='GlobalAveragePooling'),
                head=dict(type='LinearClsHead', num_classes=tunability.NUM_CLASSES,
                          in_channels=8 * width, loss=dict(type='CrossEntropyLoss')))


def gcnn_classifier(channels: Sequence[int]) -> dict:
    return dict(type='ImageClassifier',
                backbone=dict(type='mmsofteq.GCNN', group='C4', in_channels=1,
                              stem_channels=channels[0], stage_channels=tuple(channels),
                              convs_per_stage=2),
                neck=dict(type='GlobalAveragePooling'),
                head=dict(type='LinearClsHead', num_classes=tunability.NUM_CLASSES,
                          in_channels=channels[-1], loss=dict(type='CrossEntropyLoss')))


def model_config(method: str, config: ComparisonConfig) -> dict:
    """The registry config of ``method`` (``orbit`` wraps a trained model instead)."""
    kind, softness = parse_method(method)
    if kind == 'softeq':
        if softness == 1.0:
            return base_cnn(config.width)
        return dict(type='mmsofteq.SoftEqModel', model=base_cnn(config.width),
                    softeq=dict(group='SO2', softness=softness, min_kernel_size=2))
    if kind == 'gcnn':
        return gcnn_classifier(config.gcnn_channels)
    if kind == 'canon':
        return dict(type='mmsofteq.CanonicalizedModel', model=base_cnn(config.width),
                    canonicalizer=dict(group='C4', in_channels=1, input_size=None,
                                       stem_channels=8, stage_channels=(8, 16, 32)),
                    prior_weight=config.prior_weight)
    raise ValueError(f'{method!r} has no config of its own')


def build(model_cfg: dict, seed: int) -> nn.Module:
    from mmengine.registry import MODELS, init_default_scope
    init_default_scope('mmpretrain')
    torch.manual_seed(seed)
    return MODELS.build(model_cfg)


class PredictScores(nn.Module):
    """``(B, k, k)`` images → ``log pred_score`` of the classifier's predict path."""

    def __init__(self, classifier: nn.Module) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        samples = self.classifier(images[:, None], None, mode='predict')
        scores = torch.stack([sample.pred_score for sample in samples])
        return torch.log(scores.clamp_min(_SCORE_FLOOR))


# ---------------------------------------------------------------------------------- runs
def train(model: nn.Module, data: 'tunability.DigitCanvases', config: ComparisonConfig,
          seed: int) -> Dict[str, float]:
    """The shared loop: Adam, seeded batch order, ``model.loss`` summed by ``parse_losses``."""
    from mmpretrain.structures import DataSample

    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    order = torch.Generator().manual_seed(seed)
    images, labels = data.train_images, data.train_labels
    start = time.perf_counter()
    model.train()
    for _ in range(config.epochs):
        permutation = torch.randperm(len(labels), generator=order)
        for begin in range(0, len(labels), config.batch_size):
            batch = permutation[begin:begin + config.batch_size]
            samples = [DataSample().set_gt_label(int(label)) for label in labels[batch]]
            loss, _ = model.parse_losses(model.loss(images[batch][:, None], samples))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return dict(train_seconds=time.perf_counter() - start)


@torch.no_grad()
def train_scores(model: nn.Module, data: 'tunability.DigitCanvases') -> Dict[str, float]:
    scorer = PredictScores(model).eval()
    logits = scorer(data.train_images)
    return dict(train_acc=tunability.accuracy(logits, data.train_labels),
                final_loss=float(nn.functional.nll_loss(logits, data.train_labels)))


def run_comparison(config: ComparisonConfig,
                   log: Optional[Callable[[str], None]] = print) -> List[Dict[str, object]]:
    """Every ``methods × seeds`` run; returns one row per run (``RUN_COLUMNS``)."""
    methods = list(config.methods)
    for method in methods:
        parse_method(method)  # fail before any training
    torch.set_num_threads(config.threads)
    data = tunability.load_digit_canvases(config.canvas, config.digit_size,
                                          config.test_fraction, config.split_seed)
    evaluation = tunability.EvaluationSet.build(data, config.sweep_config())
    rows = []
    for seed in config.seeds:
        trained_base, base_timing = None, None
        for method in methods:
            kind, softness = parse_method(method)
            if kind == 'orbit' or (kind == 'softeq' and softness == 1.0):
                if trained_base is None:  # Base and Orbit share one training
                    trained_base = build(base_cnn(config.width), seed)
                    base_timing = train(trained_base, data, config, seed)
                model, timing = trained_base, base_timing
                if kind == 'orbit':
                    from mmengine.registry import MODELS
                    model = MODELS.build(dict(type='mmsofteq.OrbitAveragedModel',
                                              model=copy.deepcopy(trained_base), group='C4'))
            else:
                model = build(model_config(method, config), seed)
                timing = train(model, data, config, seed)
            row = dict(method=method, label=method_label(method), seed=seed,
                       params=sum(p.numel() for p in model.parameters()))
            row.update(tunability.evaluate(PredictScores(model), evaluation))
            row.update(train_scores(model, data))
            row.update(timing)
            rows.append(row)
            if log is not None:
                log(f'[{len(rows):3d}] {row["label"]:<26} seed={seed} Acc={row["acc"]:.2f} '
                    f'aAcc={row["aacc"]:.2f} cAcc={row["cacc"]:.2f} iErr={row["ierr"]:.2f} '
                    f'iErr_rot90={row["ierr_rot90"]:.2f} ({row["train_seconds"]:.1f}s)')
    return rows


# ---------------------------------------------------------------------------------- reports
def summarise(rows: Sequence[Dict[str, object]]) -> List[Dict[str, object]]:
    """Per method (first-seen order): mean and sample std (ddof=1; 0 for one seed)."""
    summary = []
    for method in dict.fromkeys(row['method'] for row in rows):
        members = [row for row in rows if row['method'] == method]
        entry = dict(method=method, label=members[0]['label'], seeds=len(members),
                     params=members[0]['params'])
        entry.update(tunability.mean_and_std(members, METRICS))
        summary.append(entry)
    return summary


def markdown_table(summary: Sequence[Dict[str, object]], columns: Sequence[str] = MAIN_TABLE,
                   small_angle: float = 30.0) -> str:
    titles = [tunability.COLUMN_TITLES[c].replace('small', f'{small_angle:g}°') for c in columns]
    body = [[entry['label'], f'{entry["params"] / 1e3:.1f}k'] +
            [f'{entry[c]:.2f} ± {entry[c + "_std"]:.2f}' for c in columns] for entry in summary]
    return text_table(['method', 'params'] + titles, body, style='markdown')


def plot_summary(summary: Sequence[Dict[str, object]], path: str, title: str = '') -> None:
    """Two panels of bars per method: Acc / aAcc / cAcc; iErr (U(±180°)) and iErr under rot90
    on a log scale (values below 1e-6, e.g. the exact zeros of the C4 methods, drawn at
    1e-6)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    labels = [entry['label'] for entry in summary]
    positions = np.arange(len(summary))
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for offset, column, name in ((-0.27, 'acc', 'Acc'), (0.0, 'aacc', 'aAcc'),
                                 (0.27, 'cacc', 'cAcc')):
        left.bar(positions + offset, [e[column] for e in summary], 0.27,
                 yerr=[e[column + '_std'] for e in summary], capsize=2, label=name)
    for offset, column, name in ((-0.2, 'ierr', 'iErr U(±180°)'),
                                 (0.2, 'ierr_rot90', 'iErr rot90')):
        right.bar(positions + offset, [max(e[column], 1e-6) for e in summary], 0.4,
                  yerr=[e[column + '_std'] for e in summary], capsize=2, label=name)
    right.set_yscale('log')
    for axis, ylabel in ((left, 'accuracy (%)'), (right, 'KL × 100')):
        axis.set_xticks(positions, labels, rotation=30, ha='right', fontsize=7)
        axis.set_ylabel(ylabel)
        axis.grid(alpha=0.3, axis='y')
        axis.legend(fontsize=7)
    tunability.save_figure(figure, path, title)


def finite(rows: Sequence[Dict[str, object]]) -> bool:
    return all(math.isfinite(float(row[c])) for row in rows for c in METRICS)
