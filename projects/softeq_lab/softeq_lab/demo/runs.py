"""The embedded demo (``softeq_lab.demo.run_demo``, ``make demo``): pieces that act on a demo
config and a finished ``Runner``.

* :data:`DEMO_TASKS`: the two demos (SegFormer-B0 segmentation on ``data/demo_voc``,
  ResNet-18 classification on ``data/demo_digits_cls``), their configs and how to make
  their data with ``softeq_lab.digits.make_demo_data``.
* :func:`set_data_root`, :func:`rescale_schedule`: config edits made before the ``Runner``
  is built (where the data are, a shorter/longer schedule with the same shape).
* :class:`MetricsRecorder`: a hook keeping the metrics of the last validation.
* :func:`latest_log`: where the run wrote its log.
"""
from __future__ import annotations

import math
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple


DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


@dataclass(frozen=True)
class DemoStage:
    """One training run of a demo.

    Attributes:
        name: ``'pretrain'``, ``'base'``, ``'softeq'``: its folder in the demo's work dir.
        config: its config, relative to the repository root.
        start_from: the stage whose checkpoint it starts from (``None``: the config's own
            initialisation).
        length_option: the ``softeq_lab.demo.run_demo`` option that sets its schedule length.
        compared: a row of the figure (the twins; not the pretraining).
        model: how the table names the model.
    """
    name: str
    config: str
    start_from: Optional[str]
    length_option: Optional[str]
    compared: bool
    model: str

    def label(self, record) -> str:
        """``'Base'`` / ``'SoftEq s=0.8'``: the figure's row label."""
        if self.name != 'softeq':
            return self.model
        return f'{self.model} s={record.softness:g}' if record.softness is not None \
            else self.model


@dataclass(frozen=True)
class DemoTask:
    """One demo: its stages, default data folder, the options of
    ``softeq_lab.digits.make_demo_data`` that write its data set, the schedule unit
    its ``train_cfg`` counts in, the table's metric keys, and the converter options that
    make this demo's set (``data_options``; ``--num-train`` / ``--num-val`` override)."""
    name: str
    stages: Tuple[DemoStage, ...]
    data_root: str
    converter_options: Dict[str, str]  # 'root' | 'num_train' | 'num_val' -> option
    schedule_unit: str  # 'iters' | 'epochs'
    metrics: Tuple[Tuple[str, str], ...]  # (column, metric key)
    metric_note: str
    data_options: Tuple[str, ...] = ()

    def converter_args(self, data_root: str, num_train: Optional[int] = None,
                       num_val: Optional[int] = None) -> List[str]:
        """Arguments of the converter that write this demo's data to ``data_root``."""
        args = ['--task', self.name, self.converter_options['root'], data_root, '--quiet',
                *self.data_options]
        for key, value in (('num_train', num_train), ('num_val', num_val)):
            if value is not None:
                args += [self.converter_options[key], str(value)]
        return args


SEG_METRICS = (('mIoU', 'mIoU'), ('aIoU', 'aIoU'), ('cIoU', 'cIoU'), ('eErr', 'eErr'),
               ('flip', 'flip'))
#: Where a twin's rotated metric writes every val image's record (in its stage folder).
PER_IMAGE_FILE = 'per_image.json'
CLS_METRICS = (('Acc', 'accuracy/top1'), ('aAcc', 'rotated_accuracy/top1'), ('cAcc', 'cAcc'),
               ('iErr', 'iErr'))
ROTATION_NOTE = ('x100; each val image once upright and once rotated by its seeded angle '
                 'U(-30°, 30°) (docs/evaluation.md)')

DEMO_TASKS: Dict[str, DemoTask] = {
    'seg': DemoTask(
        'seg',
        (DemoStage('pretrain', 'configs/demo/segformer_pretrain_demo.py', None,
                   'pretrain_iters', False, 'Base, pretrained (start)'),
         DemoStage('base', 'configs/demo/segformer_base_demo.py', 'pretrain',
                   'finetune_iters', True, 'Base'),
         DemoStage('softeq', 'configs/demo/segformer_softeq_demo.py', 'pretrain',
                   'finetune_iters', True, 'SoftEq')),
        'data/demo_voc', dict(root='--out', num_train='--num-train', num_val='--num-val'),
        'iters', SEG_METRICS, ROTATION_NOTE,
        # one digit filling 45-65 % of a 33 px canvas, labelled where its ink is > 0.2, no
        # ignore band; 1,000 val images so that paired differences are measurable
        # (docs/demo_data.md)
        data_options=('--num-train', '2000', '--num-val', '1000', '--size', '33',
                      '--max-digits', '1', '--ink-fraction', '0.45', '0.65', '--boundary', '0',
                      '--threshold', '0.2')),
    'cls': DemoTask(
        'cls',
        (DemoStage('softeq', 'configs/demo/resnet_softeq_digits_cls.py', None, 'max_epochs',
                   True, 'SoftEq'), ),
        'data/demo_digits_cls', dict(root='--cls-out', num_train='--cls-num-train',
                                     num_val='--cls-num-val'),
        'epochs', CLS_METRICS, ROTATION_NOTE),
}


def stage_table(task: DemoTask, records: Dict[str, object]) -> Tuple[List[str], List[list]]:
    """``(columns, rows)`` of the side-by-side table: one row per stage with its softness
    (1 = no projection) and the task's metrics (x100, two decimals)."""
    columns = ['stage', 'model', 'softness'] + [column for column, _ in task.metrics]
    rows = []
    for stage in task.stages:
        record = records[stage.name]
        softness = record.softness if record.softness is not None else 'per kind'
        rows.append([stage.name, stage.model, f'{softness:g}' if isinstance(softness, float)
                     else softness] + [f'{record.metrics[key]:.2f}' for _, key in task.metrics])
    return columns, rows


def paired_differences(base_file: str, softeq_file: str, draws: int = 1000,
                       seed: int = 0) -> Dict[str, Tuple[float, float]]:
    """``{metric: (SoftEq − Base, standard error)}`` from the twins' per-image records:
    mIoU / aIoU / cIoU by a paired bootstrap over the images, eErr / flip as the mean of the
    per-image differences (x100 each).

    Raises:
        ValueError: the two files hold different images.
    """
    import json

    import numpy as np

    from mmsofteq.evaluation.statistics import paired_bootstrap_iou, paired_mean_difference

    records = []
    for path in (base_file, softeq_file):
        with open(path, encoding='utf-8') as file:
            records.append(json.load(file))
    if [r['index'] for r in records[0]] != [r['index'] for r in records[1]]:
        raise ValueError(f'{base_file} and {softeq_file} hold different images')
    histograms = [{key: np.array([r[key] for r in model]) for key in ('clean', 'rotated')}
                  for model in records]
    differences = paired_bootstrap_iou(*histograms, draws=draws, seed=seed)
    for key, numerator in (('eErr', 'kl_sum'), ('flip', 'flips')):
        per_image = [[100 * r[numerator] / r['valid'] for r in model if r['valid'] > 0]
                     for model in records]
        differences[key] = paired_mean_difference(*per_image)
    return differences


def difference_row(task: DemoTask, differences: Dict[str, Tuple[float, float]]) -> list:
    """The table's last row: each metric's SoftEq − Base difference ± its standard error."""
    return ['SoftEq − Base', f'paired, {len(differences) and "± s.e."}', ''] + [
        f'{differences[key][0]:+.2f} ± {differences[key][1]:.2f}' for _, key in task.metrics]


def set_data_root(cfg, data_root: str) -> int:
    """Point every train/val/test dataset of ``cfg`` at ``data_root`` (in place); returns how
    many datasets were changed.

    Raises:
        ValueError: no dataloader of ``cfg`` has a dataset with a ``data_root`` key.
    """
    changed = 0
    for key in DATALOADERS:
        dataset = (cfg.get(key) or {}).get('dataset')
        if isinstance(dataset, dict) and 'data_root' in dataset:
            dataset['data_root'] = data_root
            changed += 1
    if not changed:
        raise ValueError('the config has no train/val/test dataset with a data_root to set')
    return changed


def _scale(value: float, ratio: float) -> int:
    return int(math.floor(value * ratio + 0.5))


def rescale_schedule(cfg, length: int) -> None:
    """Make ``cfg`` train for ``length`` iterations (iteration-based ``train_cfg``) or epochs
    (epoch-based), validating and saving a checkpoint once, at the end (in place).

    The param schedulers keep their shape: ``begin``/``end`` (and ``T_max`` when it spans
    ``end - begin``) are scaled by ``length / old_length`` and rounded, keeping every
    scheduler at least one step long.

    Raises:
        ValueError: ``length < 1``, or ``train_cfg`` has neither ``max_iters`` nor
            ``max_epochs``.
    """
    if length < 1:
        raise ValueError(f'the schedule length must be >= 1, got {length}')
    train_cfg = cfg.train_cfg
    key = 'max_iters' if 'max_iters' in train_cfg else 'max_epochs'
    if key not in train_cfg:
        raise ValueError('train_cfg has neither max_iters nor max_epochs')
    old = int(train_cfg[key])
    ratio = length / old
    train_cfg[key] = length
    train_cfg['val_interval'] = length
    checkpoint = (cfg.get('default_hooks') or {}).get('checkpoint')
    if checkpoint is not None:
        checkpoint['interval'] = length
    schedulers = cfg.get('param_scheduler') or []
    for scheduler in [schedulers] if isinstance(schedulers, dict) else schedulers:
        begin = scheduler.get('begin', 0)
        end = scheduler.get('end', old)
        new_begin = min(length - 1, _scale(begin, ratio))
        new_end = max(new_begin + 1, min(length, _scale(min(end, old), ratio)))
        if 'T_max' in scheduler:
            spans = scheduler['T_max'] == end - begin
            scheduler['T_max'] = new_end - new_begin if spans else max(
                1, _scale(scheduler['T_max'], ratio))
        scheduler['begin'], scheduler['end'] = new_begin, new_end


def schedule_length(cfg) -> int:
    """``train_cfg.max_iters`` or ``train_cfg.max_epochs``."""
    train_cfg = cfg.train_cfg
    return int(train_cfg['max_iters'] if 'max_iters' in train_cfg else train_cfg['max_epochs'])


def latest_log(runner) -> str:
    """The text log of this run (``<work_dir>/<timestamp>/<timestamp>.log``)."""
    return osp.join(runner.log_dir, f'{runner.timestamp}.log')
