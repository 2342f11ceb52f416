#!/usr/bin/env python
"""Time SoftEq against Base, side by side: training steps, inference after export, injection.

Three parts, each on real mmseg / mmpretrain models with random weights (no downloads; timing
does not depend on the values):

* ``train``: one training step = forward (``mode='loss'``) + backward + AdamW step on the
  same pre-processed batch. Base and SoftEq are the same model (same initial weights; SoftEq
  is a deep copy with ``inject_soft_equivariance`` applied), stepped alternately
  (A B, B A, A B, ... so slow drifts of the shared machine hit both alike) after
  ``--warmup`` untimed steps each. Reported: median wall and process-CPU seconds per step and
  the ratio of the medians SoftEq / Base, plus the median of the per-round ratios.
* ``export``: inference (``mode='tensor'``, ``no_grad``, eval mode) of the Base model, of the
  SoftEq model (not exported: ``P·θ`` cached in eval mode), and of a copy of it passed through
  ``mmsofteq.nn.export_model`` (what ``tools/export_checkpoint.py`` saves); interleaved the
  same way. The exported model must reproduce the SoftEq outputs (max abs difference
  printed).
* ``inject``: peak RSS (``getrusage(RUSAGE_SELF).ru_maxrss``) and wall time of building a
  large backbone and of injecting into it, one fresh subprocess per case (so the projector
  cache is cold and each peak is that case's own).

Usage::

    python tools/benchmarks/benchmark_training.py                             # everything, defaults
    python tools/benchmarks/benchmark_training.py --parts train --cases resnet50 --steps 30
    python tools/benchmarks/benchmark_training.py --parts inject --inject-cases dinov2-b14-pos0.9

Prints markdown tables headed by the machine (cores, torch threads, torch version, load
average before/after) and the command line. On a shared machine pass ``--threads 1``: with
more threads than free cores every parallel kernel waits for a descheduled thread, and the
noise swamps a few-percent difference (docs/benchmarks.md).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from mmsofteq.apis.benchmarking import (build_model, interleaved, machine, package_model_config,
                                        peaks, print_rows, random_batch, segformer_config,
                                        status_kib, summarise)
from mmsofteq.utils import markdown_header, markdown_row

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SEGFORMER_SOFTEQ = dict(group='SO2', softness=0.95, cutoff='hard', method='auto')
RESNET_SOFTEQ = dict(group='SO2', softness=0.95, cutoff='hard', method='auto')
VIT_SOFTEQ = dict(group='SO2', cutoff='hard', method='auto')


@dataclass
class Case:
    """A model to time: its config, scope, batch and the SoftEq variants to compare."""

    scope: str                      # 'mmseg' | 'mmpretrain'
    model: Callable[[], dict]       # model config dict
    batch: int
    size: int
    variants: dict = field(default_factory=dict)   # label -> softeq dict
    description: str = ''


# ----------------------------------------------------------------------------- models
def vit_small() -> dict:
    """mmpretrain ViT-S/16 classifier (``arch='deit-small'``: 384 dims, 12 layers, 6 heads —
    the ViT-S/16 of DeiT/timm; mmpretrain's ``arch='small'`` is a 768-dim, 8-layer model)."""
    model = package_model_config('mmpretrain::_base_/models/vit-base-p16.py')
    model['backbone'].update(arch='deit-small', img_size=224, patch_size=16, drop_rate=0.0)
    model['backbone'].pop('init_cfg', None)
    model['head'].update(in_channels=384, num_classes=1000)
    model['head'].pop('init_cfg', None)
    return model


def resnet50() -> dict:
    """mmpretrain ResNet-50 ImageNet classifier (``_base_/models/resnet50.py``)."""
    return package_model_config('mmpretrain::_base_/models/resnet50.py')


def dinov2_base() -> dict:
    """mmpretrain DINOv2 ViT-B/14 at 518 px (37 x 37 position grid), as mmpretrain's
    ``configs/dinov2/vit-base-p14_dinov2-pre_headless.py`` with a linear head."""
    return dict(type='ImageClassifier',
                backbone=dict(type='VisionTransformer', arch='base', img_size=518,
                              patch_size=14, layer_scale_init_value=1e-5),
                neck=None,
                head=dict(type='LinearClsHead', num_classes=1000, in_channels=768,
                          loss=dict(type='CrossEntropyLoss')))


TRAIN_CASES = {
    'segformer-b0': Case('mmseg', lambda: segformer_config('b0', size=128), batch=4, size=128,
                         variants={
                             '0.95, k>=4 (paper config)': dict(SEGFORMER_SOFTEQ,
                                                               min_kernel_size=4),
                             '0.95, k>=2 (every k>1 conv)': dict(SEGFORMER_SOFTEQ,
                                                                 min_kernel_size=2)},
                         description='mmseg EncoderDecoder MiT-B0 + SegformerHead (150 cls)'),
    'vit-s16': Case('mmpretrain', vit_small, batch=8, size=224, variants={
        'patch 1.0 / pos 0.9 (paper ViT)': dict(VIT_SOFTEQ, softness=dict(patch_embed=1.0,
                                                                          pos_embed=0.9)),
        'patch 0.95 / pos 0.9': dict(VIT_SOFTEQ, softness=dict(patch_embed=0.95,
                                                               pos_embed=0.9))},
        description='mmpretrain ImageClassifier ViT deit-small p16 + VisionTransformerClsHead'),
    'resnet50': Case('mmpretrain', resnet50, batch=8, size=224, variants={
        '0.95, k>=2 (7x7 + every 3x3)': dict(RESNET_SOFTEQ, min_kernel_size=2),
        '0.95, k>=4 (paper config: 7x7 stem)': dict(RESNET_SOFTEQ, min_kernel_size=4)},
        description='mmpretrain ImageClassifier ResNet-50 + GAP + LinearClsHead'),
}

INJECT_CASES = {
    'dinov2-b14': ('mmpretrain', dinov2_base,
                   dict(group='SO2', softness=dict(patch_embed=0.95, pos_embed=1.0))),
    'dinov2-b14-pos0.9': ('mmpretrain', dinov2_base,
                          dict(group='SO2', softness=dict(patch_embed=0.95, pos_embed=0.9))),
    'segformer-b5': ('mmseg', lambda: segformer_config('b5', size=512),
                     dict(SEGFORMER_SOFTEQ, min_kernel_size=4)),
    'segformer-b5-k2': ('mmseg', lambda: segformer_config('b5', size=512),
                        dict(SEGFORMER_SOFTEQ, min_kernel_size=2)),
}


def softeq_models(case: Case, base: torch.nn.Module) -> dict:
    from mmsofteq.nn import inject_soft_equivariance
    models = {}
    for label, softeq in case.variants.items():
        model = copy.deepcopy(base)
        report = inject_soft_equivariance(model, softeq, log=False)
        models[label] = (model, report.num_projected)
    return models


def projection_cost(model: torch.nn.Module, repeats: int) -> float:
    """Median CPU seconds of computing every projected ``P·θ`` and back-propagating into
    ``θ`` (the only work SoftEq adds to a training step), measured on its own."""
    from mmsofteq.nn import projected_parameters

    owners = [(module, name) for _, module, name in projected_parameters(model)]
    upstream = [torch.randn_like(module._parameters[name]) for module, name in owners]
    times = []
    for index in range(repeats + 2):
        start = time.process_time()
        total = sum((getattr(module, name) * grad).sum()
                    for (module, name), grad in zip(owners, upstream))
        total.backward()
        if index >= 2:
            times.append(time.process_time() - start)
    model.zero_grad(set_to_none=True)
    return statistics.median(times) if times else 0.0


def bench_train(name: str, case: Case, steps: int, warmup: int) -> None:
    base = build_model(case.scope, case.model())
    variants = softeq_models(case, base)
    data = random_batch(base, case.scope, case.batch, case.size)

    def step_fn(model: torch.nn.Module) -> Callable[[], None]:
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.01)

        def step() -> None:
            losses = model(**data, mode='loss')
            loss, _ = model.parse_losses(losses)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        return step

    functions = {'Base': step_fn(base)}
    functions.update({f'SoftEq {label}': step_fn(model) for label, (model, _) in
                      variants.items()})
    times = interleaved(functions, rounds=steps, warmup=warmup)
    base_cpu = statistics.median(times['Base']['cpu'])
    projected = {}
    for label, (model, count) in variants.items():
        cost = projection_cost(model, steps)
        projected[f'SoftEq {label}'] = (f'{count}; P·θ fwd+bwd alone {1e3 * cost:.1f} ms CPU '
                                        f'= {100 * cost / base_cpu:.2f}% of a Base step')
    print_rows(f'### Training step: {name} ({case.description}), batch {case.batch} x 3 x '
               f'{case.size} x {case.size}, {steps} timed steps each after {warmup} warm-up',
               summarise(times, 'Base'), projected)


def bench_export(name: str, case: Case, steps: int, warmup: int) -> None:
    """Base vs exported plain model vs (not exported) SoftEq, for the case's variant with the
    most projected tensors."""
    from mmsofteq.nn import export_model

    base = build_model(case.scope, case.model())
    variants = softeq_models(case, base)
    label, (softeq, count) = max(variants.items(), key=lambda item: item[1][1])
    data = random_batch(base, case.scope, case.batch, case.size)

    def infer_fn(model: torch.nn.Module) -> Callable[[], torch.Tensor]:
        model.eval()

        @torch.no_grad()
        def infer():
            return model(data['inputs'], mode='tensor')
        return infer

    exported = export_model(copy.deepcopy(softeq))
    difference = (infer_fn(softeq)() - infer_fn(exported)()).abs().max().item()
    functions = {'Base': infer_fn(base), 'exported (export_model)': infer_fn(exported),
                 'SoftEq, not exported': infer_fn(softeq)}
    extra = {'exported (export_model)': f'{count}; max abs diff to SoftEq {difference:.1e}',
             'SoftEq, not exported': str(count)}
    times = interleaved(functions, rounds=steps, warmup=warmup)
    print_rows(f'### Inference: {name}, SoftEq {label}, batch {case.batch} x 3 x {case.size} x '
               f'{case.size}, {steps} timed forwards each after {warmup} warm-up',
               summarise(times, 'Base'), extra)


def inject_worker(name: str) -> dict:
    """Build the case's model, inject, and measure (runs in a fresh subprocess)."""
    import mmsofteq  # noqa: F401  (registers; imports OpenMMLab)
    from mmsofteq.nn import inject_soft_equivariance

    scope, model_cfg, softeq = INJECT_CASES[name]
    peak_start, maxrss_start = peaks()
    start = time.perf_counter()
    model = build_model(scope, model_cfg())
    build_s = time.perf_counter() - start
    peak_built, maxrss_built = peaks()
    rss_built = status_kib('VmRSS')
    start = time.perf_counter()
    report = inject_soft_equivariance(model, softeq, log=False)
    inject_s = time.perf_counter() - start
    peak_injected, maxrss_injected = peaks()
    rss_injected = status_kib('VmRSS')
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() * b.element_size() for n, b in model.named_buffers()
                  if 'softeq_projector_' in n)
    grids = sorted({entry.grid_size for entry in report.projected if not entry.identity})
    return dict(name=name, params_m=params / 1e6, build_s=build_s, inject_s=inject_s,
                peak_start_mib=peak_start / 1024, peak_built_mib=peak_built / 1024,
                peak_injected_mib=peak_injected / 1024, rss_built_mib=rss_built / 1024,
                rss_injected_mib=rss_injected / 1024, maxrss_start_mib=maxrss_start / 1024,
                maxrss_built_mib=maxrss_built / 1024,
                maxrss_injected_mib=maxrss_injected / 1024, projected=report.num_projected,
                projector_buffers_mib=buffers / 2**20, grids=grids, softeq=str(softeq))


def bench_inject(names: list[str]) -> None:
    print('\n### Injection into large backbones (one fresh process per case)\n')
    print(markdown_header([
        'case', 'params [M]', 'build [s]', 'inject [s]',
        'peak RSS after imports / build / inject [MiB]', 'peak increase by inject [MiB]',
        'RSS increase by inject [MiB]', 'ru_maxrss after build / inject [MiB]',
        'projected tensors (grid sizes)', 'projector buffers [MiB]', 'softeq']))
    for name in names:
        result = subprocess.run([sys.executable, os.path.abspath(__file__), '--inject-worker',
                                 name], capture_output=True, text=True, cwd=REPO)
        if result.returncode != 0:
            print(markdown_row([name, f'failed: {result.stderr.strip().splitlines()[-1]}']))
            continue
        row = json.loads(result.stdout.strip().splitlines()[-1])
        print(markdown_row([
            name, f"{row['params_m']:.1f}", f"{row['build_s']:.2f}", f"{row['inject_s']:.2f}",
            f"{row['peak_start_mib']:.0f} / {row['peak_built_mib']:.0f} / "
            f"{row['peak_injected_mib']:.0f}",
            f"{row['peak_injected_mib'] - row['peak_built_mib']:.0f}",
            f"{row['rss_injected_mib'] - row['rss_built_mib']:.0f}",
            f"{row['maxrss_built_mib']:.0f} / {row['maxrss_injected_mib']:.0f}",
            f"{row['projected']} ({', '.join(map(str, row['grids']))})",
            f"{row['projector_buffers_mib']:.2f}", f"`{row['softeq']}`"]))
        sys.stdout.flush()


# ----------------------------------------------------------------------------- main
def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--parts', nargs='+', choices=['train', 'export', 'inject'],
                        default=['train', 'export', 'inject'])
    parser.add_argument('--cases', nargs='+', choices=list(TRAIN_CASES),
                        default=list(TRAIN_CASES), help='models for train/export')
    parser.add_argument('--inject-cases', nargs='+', choices=list(INJECT_CASES),
                        default=list(INJECT_CASES))
    parser.add_argument('--steps', type=int, default=15, help='timed steps per model')
    parser.add_argument('--warmup', type=int, default=3, help='untimed steps per model')
    parser.add_argument('--infer-steps', type=int, default=15, help='timed forwards per model')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    parser.add_argument('--inject-worker', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.inject_worker:
        print(json.dumps(inject_worker(args.inject_worker)))
        return
    import mmsofteq  # noqa: F401

    command = 'python tools/benchmarks/benchmark_training.py ' + ' '.join(
        shlex.quote(arg) for arg in (sys.argv[1:] if argv is None else argv))
    print(f'`{command.strip()}`\n\nmachine at start: {machine()}')
    if 'train' in args.parts:
        for name in args.cases:
            bench_train(name, TRAIN_CASES[name], args.steps, args.warmup)
    if 'export' in args.parts:
        for name in args.cases:
            bench_export(name, TRAIN_CASES[name], args.infer_steps, args.warmup)
    if 'inject' in args.parts:
        bench_inject(args.inject_cases)
    print(f'\nmachine at end: {machine()}')


if __name__ == '__main__':
    main()
