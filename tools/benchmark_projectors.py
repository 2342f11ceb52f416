#!/usr/bin/env python
"""Benchmark projector construction: SVD route vs Schur route, measured side by side.

Prints (1) equivariant grid→grid projectors for k x k → k x k, k = 4…14: time of the dense
SVD route (where ``n = k⁴`` is affordable) and of the Schur route, with their ratio; (2) the
invariant projectors for k = 3, 7, 14, 16, 37; (3) the total time to build every invariant
projector that ViT-B/16, DINOv2-B/14, ResNet-50 and SegFormer (MiT) need. Caches are cleared
before every timing; each number is the median of ``--repeats`` runs.

Usage::

    python tools/benchmark_projectors.py [--groups C4 SO2] [--max-svd-dim 4096] [--repeats 3]
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import torch

from mmsofteq.projection import clear_projector_cache, equivariant_projector, invariant_projector

#: Grid sizes of the invariant projectors each backbone needs (kernels and position grids).
BACKBONE_GRIDS = {
    'ViT-B/16 (224)': (16, 14),            # patch-embedding 16x16, position grid 14x14
    'DINOv2-B/14 (518)': (14, 37),         # patch-embedding 14x14, position grid 37x37
    'ResNet-50': (7, 3),                   # stem 7x7, bottleneck 3x3
    'SegFormer MiT-B0..B5': (7, 3, 8, 4, 2),  # patch embeds, sr convs, depthwise Mix-FFN
}


def median_time(build: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        clear_projector_cache()
        start = time.perf_counter()
        build()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--groups', nargs='+', default=['C4', 'SO2'])
    parser.add_argument('--sizes', nargs='+', type=int, default=list(range(4, 15)))
    parser.add_argument('--invariant-sizes', nargs='+', type=int, default=[3, 7, 14, 16, 37])
    parser.add_argument('--softness', type=float, default=0.9)
    parser.add_argument('--max-svd-dim', type=int, default=4096,
                        help='largest n = k^4 for which the dense SVD route is run')
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args()
    print(f'torch threads: {torch.get_num_threads()}; softness {args.softness}; '
          f'median of {args.repeats}\n')

    print('## Equivariant grid→grid projectors (k x k → k x k, n = k^4)\n')
    print('| group | k | n | SVD route [s] | Schur route [s] | SVD / Schur |')
    print('| --- | --- | --- | --- | --- | --- |')
    for group in args.groups:
        for k in args.sizes:
            n = k ** 4
            schur = median_time(lambda: equivariant_projector(
                group, k, k, softness=args.softness, method='schur'), args.repeats)
            if n <= args.max_svd_dim:
                svd = median_time(lambda: equivariant_projector(
                    group, k, k, softness=args.softness, method='svd'),
                    1 if n > 1000 else args.repeats)
                svd_text, ratio = f'{svd:.3f}', f'{svd / schur:,.0f}x'
            else:
                svd_text, ratio = f'skipped (n > {args.max_svd_dim})', '—'
            print(f'| {group} | {k} | {n:,} | {svd_text} | {schur:.4f} | {ratio} |')

    print('\n## Invariant projectors (k x k grid, N = k^2)\n')
    print('| group | k | N | SVD route [s] | Schur route [s] | SVD / Schur |')
    print('| --- | --- | --- | --- | --- | --- |')
    for group in args.groups:
        for k in args.invariant_sizes:
            svd = median_time(lambda: invariant_projector(
                group, k, softness=args.softness, method='svd'), args.repeats)
            schur = median_time(lambda: invariant_projector(
                group, k, softness=args.softness, method='schur'), args.repeats)
            print(f'| {group} | {k} | {k * k:,} | {svd:.4f} | {schur:.4f} | {svd / schur:.1f}x |')

    print('\n## Every invariant projector a backbone needs (Schur route, cold cache)\n')
    print('| group | backbone | grids | total [s] |')
    print('| --- | --- | --- | --- |')
    for group in args.groups:
        union = sorted({k for grids in BACKBONE_GRIDS.values() for k in grids})
        for name, grids in list(BACKBONE_GRIDS.items()) + [('all four (union)', tuple(union))]:
            total = median_time(lambda: [invariant_projector(group, k, softness=args.softness)
                                         for k in grids], args.repeats)
            print(f'| {group} | {name} | {", ".join(map(str, grids))} | {total:.3f} |')


if __name__ == '__main__':
    main()
