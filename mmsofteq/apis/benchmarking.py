"""Side-by-side timing of model variants on one machine, for the benchmarks in
``tools/benchmarks/`` and for users timing their own SoftEq model against its Base.

* :func:`build_model`, :func:`random_batch`: a randomly initialised OpenMMLab model and a
  pre-processed random batch for it (timing does not depend on the values);
* :func:`interleaved`: every variant run in rotating order (A B C, B C A, ... reversed every
  other cycle) after untimed warm-up calls, so slow drifts of a shared machine hit all alike;
* :func:`summarise`, :func:`print_rows`: medians, ratios to the base variant (ratio of medians;
  median of per-round ratios with its IQR), as a markdown table;
* :func:`peaks`, :func:`status_kib`, :func:`machine`: peak memory and the machine state to
  print next to every number.

Example::

    times = interleaved({'Base': lambda: base(**batch), 'SoftEq': lambda: soft(**batch)},
                        rounds=20, warmup=3)
    print_rows('inference', summarise(times, 'Base'))
"""
from __future__ import annotations

import copy
import logging
import os
import platform
import resource
import statistics
import sys
import time
from typing import Optional

import torch

from ..utils import markdown_header, markdown_row


def package_model_config(path: str) -> dict:
    """``model`` of an installed OpenMMLab config, e.g. ``'mmseg::_base_/models/x.py'``."""
    from mmengine.hub import get_config
    return copy.deepcopy(get_config(path).model.to_dict())


def segformer_config(variant: str = 'b0', num_classes: int = 150, size: int = 128) -> dict:
    """mmseg's SegFormer model config (``segformer_mit-b0.py``; B5 widths as in mmseg's
    ``segformer_mit-b5_*`` configs), SyncBN → BN for one CPU process."""
    model = package_model_config('mmseg::_base_/models/segformer_mit-b0.py')
    if variant == 'b5':
        model['backbone'].update(embed_dims=64, num_heads=[1, 2, 5, 8], num_layers=[3, 6, 40, 3])
        model['decode_head'].update(in_channels=[64, 128, 320, 512])
    elif variant != 'b0':
        raise ValueError(f'segformer variant must be b0 or b5, got {variant!r}')
    model['decode_head'].update(num_classes=num_classes, norm_cfg=dict(type='BN',
                                                                       requires_grad=True))
    model['data_preprocessor']['size'] = (size, size)
    return model


def build_model(scope: str, model_cfg: dict, seed: int = 0) -> torch.nn.Module:
    """Build and randomly initialise ``model_cfg`` (mmengine's init log silenced)."""
    from mmengine.logging import MMLogger
    from mmengine.registry import MODELS, init_default_scope
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        init_default_scope(scope)
        torch.manual_seed(seed)
        model = MODELS.build(model_cfg)
        model.init_weights()
    finally:
        logger.setLevel(level)
    return model


def random_batch(model: torch.nn.Module, scope: str, batch: int, size: int,
                 num_classes: int = 150) -> dict:
    """A pre-processed random batch (``inputs`` and ``data_samples``) for ``model``."""
    generator = torch.Generator().manual_seed(0)
    images = [torch.randint(0, 256, (3, size, size), generator=generator, dtype=torch.uint8)
              for _ in range(batch)]
    if scope == 'mmseg':
        from mmengine.structures import PixelData
        from mmseg.structures import SegDataSample
        samples = []
        for _ in range(batch):
            sample = SegDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size),
                                                 pad_shape=(size, size)))
            labels = torch.randint(0, num_classes, (1, size, size), generator=generator)
            sample.gt_sem_seg = PixelData(data=labels)
            samples.append(sample)
    else:
        from mmpretrain.structures import DataSample
        labels = torch.randint(0, 1000, (batch, ), generator=generator)
        samples = [DataSample().set_gt_label(int(label)) for label in labels]
    return model.data_preprocessor(dict(inputs=images, data_samples=samples), training=True)


def interleaved(functions: dict, rounds: int, warmup: int) -> dict:
    """Run each function ``warmup`` times, then ``rounds`` times in rotating order.

    Returns ``{name: {'wall': [s, ...], 'cpu': [s, ...]}}`` (one entry per round).
    """
    names = list(functions)
    for _ in range(warmup):
        for name in names:
            functions[name]()
    times = {name: dict(wall=[], cpu=[]) for name in names}
    for index in range(rounds):
        shift = index % len(names)
        order = names[shift:] + names[:shift]
        if (index // len(names)) % 2:
            order = order[::-1]
        for name in order:
            wall, cpu = time.perf_counter(), time.process_time()
            functions[name]()
            times[name]['cpu'].append(time.process_time() - cpu)
            times[name]['wall'].append(time.perf_counter() - wall)
    return times


def summarise(times: dict, base: str) -> list[dict]:
    """Medians and ratios to ``base`` (ratio of medians; median of per-round ratios)."""
    rows = []
    for name, measured in times.items():
        row = dict(name=name, wall=statistics.median(measured['wall']),
                   cpu=statistics.median(measured['cpu']))
        row['ratio'] = row['wall'] / statistics.median(times[base]['wall'])
        row['cpu_ratio'] = row['cpu'] / statistics.median(times[base]['cpu'])
        per_round = [a / b for a, b in zip(measured['wall'], times[base]['wall'])]
        row['round_ratio'] = statistics.median(per_round)
        quartiles = statistics.quantiles(per_round, n=4) if len(per_round) > 1 else [1, 1, 1]
        row['iqr'] = (quartiles[0], quartiles[2])
        rows.append(row)
    return rows


def print_rows(title: str, rows: list[dict], extra: Optional[dict] = None,
               ratio_column: str = 'SoftEq/Base (medians)') -> None:
    """The table of :func:`summarise`'s rows under ``title``; ``extra``: a last
    ``projected`` column by variant name."""
    print(f'\n{title}\n')
    columns = ['variant', 'wall median [s]', ratio_column, 'per-round ratio median [IQR]',
               'CPU median [s]', 'CPU ratio']
    print(markdown_header(columns + (['projected'] if extra else [])))
    for row in rows:
        low, high = row['iqr']
        cells = [row['name'], f"{row['wall']:.4f}", f"{row['ratio']:.3f}",
                 f"{row['round_ratio']:.3f} [{low:.3f}, {high:.3f}]", f"{row['cpu']:.4f}",
                 f"{row['cpu_ratio']:.3f}"]
        print(markdown_row(cells + ([extra.get(row['name'], '-')] if extra else [])))
    sys.stdout.flush()


def status_kib(field_name: str) -> int:
    """A ``/proc/self/status`` field in KiB (``VmRSS``: now; ``VmHWM``: peak of this image)."""
    with open('/proc/self/status', encoding='ascii') as status:
        for line in status:
            if line.startswith(field_name + ':'):
                return int(line.split()[1])
    return -1


def peaks() -> tuple[int, int]:
    """``(VmHWM, ru_maxrss)`` in KiB. ``ru_maxrss`` lives in the signal struct, which Linux
    keeps across ``exec``: a worker spawned (vfork + exec) by a large parent starts with the
    parent's peak, so ``VmHWM`` (the peak of this process image) is the number reported."""
    return status_kib('VmHWM'), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def machine() -> str:
    load = os.getloadavg()
    return (f'{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch '
            f'{torch.__version__}, torch threads {torch.get_num_threads()}, python '
            f'{platform.python_version()}, load average {load[0]:.2f} / {load[1]:.2f} / '
            f'{load[2]:.2f} (1/5/15 min)')
