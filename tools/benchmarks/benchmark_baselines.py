#!/usr/bin/env python
"""Time the baselines against Base, side by side: inference of OrbitAveraged and Canonicalized.

Two parts, on real mmseg / mmpretrain models with random weights (no downloads; timing does
not depend on the values):

* ``time``: inference (``mode='predict'``, ``no_grad``, eval mode: what validation and the
  rotated pass run) of the Base model, of ``mmsofteq.OrbitAveragedModel`` (C4: 4 forwards)
  and of ``mmsofteq.CanonicalizedModel`` (the canonicaliser of
  ``configs/_base_/baselines/canon_c4.py``), on the same pre-processed batch, interleaved as
  ``benchmark_training.py`` does (A B C, C A B, ... so slow drifts of a shared machine hit all
  alike) after ``--warmup`` untimed forwards each. Reported: median wall and process-CPU
  seconds and the ratios to Base (ratio of medians; median of per-round ratios).
* ``memory``: the canonicaliser's parameters (count, share of the wrapped model, bytes of its
  state dict) and the peak RSS (``VmHWM``) after imports, after building and after one predict
  of each variant, each in a fresh subprocess so every peak is that variant's own; the
  inference memory of a variant is its peak increase by the predict, compared with Base's.

Usage::

    python tools/benchmarks/benchmark_baselines.py                           # both parts
    python tools/benchmarks/benchmark_baselines.py --cases resnet50 --repeats 20 --threads 1
    python tools/benchmarks/benchmark_baselines.py --parts memory

Cases: ``segformer-b0`` (mmseg EncoderDecoder MiT-B0 + SegformerHead, 150 classes, ``--seg-size``
px, batch ``--seg-batch``) and ``resnet50`` (mmpretrain ImageNet ResNet-50, 224 px, batch
``--cls-batch``). Prints markdown tables headed by the machine and the command line; on a
shared machine pass ``--threads 1`` (docs/benchmarks.md).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import subprocess
import sys
from typing import Callable

import torch

from mmsofteq.apis.benchmarking import (build_model, interleaved, machine, package_model_config,
                                        peaks, print_rows, random_batch, segformer_config,
                                        summarise)
from mmsofteq.utils import markdown_header, markdown_row

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CANON_RECIPE = os.path.join(REPO, 'configs', '_base_', 'baselines', 'canon_c4.py')
ORBIT_RECIPE = os.path.join(REPO, 'configs', '_base_', 'baselines', 'orbit_c4.py')
CASES = ('segformer-b0', 'resnet50')
VARIANTS = ('Base', 'OrbitAveraged C4', 'Canonicalized C4')


def recipes() -> tuple[dict, dict]:
    """The ``canon`` and ``orbit`` keys of the configs' baseline recipes."""
    from mmengine.config import Config
    return (Config.fromfile(CANON_RECIPE).canon.to_dict(),
            Config.fromfile(ORBIT_RECIPE).orbit.to_dict())


def case_model(name: str, args: argparse.Namespace) -> tuple[str, dict, int, int]:
    """``(scope, model config, batch, size)`` of a case (mmseg's predict reads
    ``test_cfg.mode``: the config is a ``ConfigDict``, as a config file gives it)."""
    from mmengine.config import ConfigDict
    if name == 'segformer-b0':
        return ('mmseg', ConfigDict(segformer_config('b0', size=args.seg_size)), args.seg_batch,
                args.seg_size)
    if name == 'resnet50':
        model = package_model_config('mmpretrain::_base_/models/resnet50.py')
        return 'mmpretrain', model, args.cls_batch, 224
    raise ValueError(f'unknown case {name!r}; one of {CASES}')


def variant_config(variant: str, model_cfg: dict) -> dict:
    canon, orbit = recipes()
    if variant == 'Base':
        return model_cfg
    if variant == 'OrbitAveraged C4':
        return dict(type='mmsofteq.OrbitAveragedModel', model=model_cfg, **orbit)
    if variant == 'Canonicalized C4':
        return dict(type='mmsofteq.CanonicalizedModel', model=model_cfg, **canon)
    raise ValueError(f'unknown variant {variant!r}; one of {VARIANTS}')


def predict_fn(model: torch.nn.Module, data: dict) -> Callable[[], list]:
    model.eval()

    @torch.no_grad()
    def predict():
        return model(data['inputs'], data['data_samples'], mode='predict')
    return predict


def bench_time(name: str, args: argparse.Namespace) -> None:
    scope, model_cfg, batch, size = case_model(name, args)
    models = {variant: build_model(scope, variant_config(variant, model_cfg))
              for variant in VARIANTS}
    base_state = models['Base'].state_dict()
    for variant, model in models.items():  # the same wrapped weights everywhere
        model.load_state_dict(base_state, strict=False)
    data = random_batch(models['Base'], scope, batch, size)
    functions = {variant: predict_fn(model, data) for variant, model in models.items()}
    times = interleaved(functions, rounds=args.repeats, warmup=args.warmup)
    print_rows(f'### Inference: {name}, batch {batch} x 3 x {size} x {size}, {args.repeats} '
               f'timed predicts each after {args.warmup} warm-up', summarise(times, 'Base'),
               ratio_column='ratio to Base (medians)')


def memory_worker(name: str, variant: str, args: argparse.Namespace) -> dict:
    """Build one variant, predict once, report sizes and peaks (runs in a fresh process)."""
    import importlib

    import mmsofteq  # noqa: F401  (registers; imports OpenMMLab)

    scope, model_cfg, batch, size = case_model(name, args)
    importlib.import_module(f'{scope}.models')  # every variant pays the same imports
    config = variant_config(variant, model_cfg)
    peak_start, _ = peaks()
    model = build_model(scope, config)
    data = random_batch(model, scope, batch, size)
    peak_built, _ = peaks()
    predict_fn(model, data)()
    peak_predict, _ = peaks()
    total = sum(p.numel() for p in model.parameters())
    canonicalizer = getattr(model, 'canonicalizer', None)
    canon_params = 0 if canonicalizer is None else sum(
        p.numel() for p in canonicalizer.parameters())
    canon_bytes = 0 if canonicalizer is None else sum(
        t.numel() * t.element_size() for t in canonicalizer.state_dict().values())
    return dict(name=name, variant=variant, params=total, canon_params=canon_params,
                canon_state_bytes=canon_bytes, peak_start_mib=peak_start / 1024,
                peak_built_mib=peak_built / 1024, peak_predict_mib=peak_predict / 1024)


def bench_memory(names: list[str], args: argparse.Namespace, passthrough: list[str]) -> None:
    print('\n### Parameters and peak memory (one fresh process per variant)\n')
    print(markdown_header(['case', 'variant', 'params [M]', 'canonicaliser params (share)',
                           'canonicaliser state dict [KiB]',
                           'peak RSS after imports / build / predict [MiB]',
                           'peak increase by predict [MiB]', "minus Base's [MiB]"]))
    for name in names:
        base_increase = None
        for variant in VARIANTS:
            result = subprocess.run(
                [sys.executable, os.path.abspath(__file__), '--memory-worker', name, variant] +
                passthrough, capture_output=True, text=True, cwd=REPO)
            if result.returncode != 0:
                print(markdown_row([name, variant,
                                    f'failed: {result.stderr.strip().splitlines()[-1]}']))
                continue
            row = json.loads(result.stdout.strip().splitlines()[-1])
            increase = row['peak_predict_mib'] - row['peak_built_mib']
            base_increase = increase if variant == 'Base' else base_increase
            extra = '-' if base_increase is None or variant == 'Base' else (
                f'{increase - base_increase:.0f}')
            share = (f"{row['canon_params']:,} ({100 * row['canon_params'] / row['params']:.2f}%)"
                     if row['canon_params'] else '-')
            state = f"{row['canon_state_bytes'] / 1024:.1f}" if row['canon_params'] else '-'
            print(markdown_row([
                name, variant, f"{row['params'] / 1e6:.2f}", share, state,
                f"{row['peak_start_mib']:.0f} / {row['peak_built_mib']:.0f} / "
                f"{row['peak_predict_mib']:.0f}", f'{increase:.0f}', extra]))
            sys.stdout.flush()


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--parts', nargs='+', choices=['time', 'memory'],
                        default=['time', 'memory'])
    parser.add_argument('--cases', nargs='+', choices=list(CASES), default=list(CASES))
    parser.add_argument('--repeats', type=int, default=10, help='timed predicts per variant')
    parser.add_argument('--warmup', type=int, default=2, help='untimed predicts per variant')
    parser.add_argument('--seg-size', type=int, default=256, help='SegFormer input side')
    parser.add_argument('--seg-batch', type=int, default=1)
    parser.add_argument('--cls-batch', type=int, default=4)
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    parser.add_argument('--memory-worker', nargs=2, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.memory_worker:
        from mmengine.logging import MMLogger
        MMLogger.get_current_instance().setLevel(logging.ERROR)
        print(json.dumps(memory_worker(*args.memory_worker, args)))
        return
    import mmsofteq  # noqa: F401

    command = 'python tools/benchmarks/benchmark_baselines.py ' + ' '.join(
        shlex.quote(arg) for arg in argv)
    print(f'`{command.strip()}`\n\nmachine at start: {machine()}')
    if 'time' in args.parts:
        for name in args.cases:
            bench_time(name, args)
    if 'memory' in args.parts:
        passthrough = [f'--seg-size={args.seg_size}', f'--seg-batch={args.seg_batch}',
                       f'--cls-batch={args.cls_batch}'] + (
                           [f'--threads={args.threads}'] if args.threads else [])
        bench_memory(args.cases, args, passthrough)
    print(f'\nmachine at end: {machine()}')


if __name__ == '__main__':
    main()
