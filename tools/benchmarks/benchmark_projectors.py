#!/usr/bin/env python
"""Benchmark projector construction: our fast route, our SVD route and emlp, side by side.

One run prints:

1. Equivariant grid→grid projectors ``W: R^{k²} → R^{k²}`` (``n = k⁴`` unknowns), k = 3…16,
   for C4 and SO(2): time of our fast route (Schur / joint eigenbasis), of our dense SVD
   route (the ``(K·n) x n`` constraint; skipped, and said so, once the ``n³`` extrapolation
   from the last finished size exceeds ``--svd-time-cap`` or the estimated memory exceeds
   ``--svd-memory-cap-gb``), and of the peer emlp's ``(V(G)>>V(G)).equivariant_basis()``,
   run in a subprocess with emlp's own interpreter (``--emlp-python``; emlp is *not* a
   dependency of mmsofteq) under a per-case ``--emlp-timeout``. emlp gets the same generators
   as ours (``mmsofteq.groups``): C4 = the exact ``rot90`` permutation as discrete generator;
   SO(2) = the spectral Lie generator ``L`` plus the ``rot90`` companion. Where emlp finishes,
   its basis is compared with the range of our softness-0 projector (ranks, and the sine of
   the largest principal angle ``‖(I − P) Q‖₂`` for emlp's orthonormalised basis ``Q``).
2. Invariant projectors for k = 3, 7, 14, 16, 37 (SVD route vs fast route).
3. The total time to build every invariant projector ViT-B/16, DINOv2-B/14, ResNet-50 and
   SegFormer (MiT) need, at the reference softness per layer (the paper's) and at
   ``--softness``.
4. The same per backbone with the paper's discretisation (``generator='bilinear'``, the
   paper's order n per backbone, ``rounding='index'``) next to the spectral route (SO2).
5. Distinct projectors over 101 softness values (0, 0.01, ..., 1) per group, grid size and
   rounding rule (how finely softness tunes).
6. The targets with the measured values.

Every timing starts from cold caches (projectors, decompositions and the generator matrices of
``mmsofteq.groups``); each fast-route number is the median of ``--repeats`` runs, the SVD route
too for ``n <= 1000`` and once per case above; emlp runs once per case, timed from building its
group to the dense basis (jax start-up and a warm-up solve excluded, its compilation for the
case included). After emlp fails or times out at one size, larger sizes are skipped except
``--emlp-probe-sizes`` (default 14). Timings on a shared machine are noisy: the load average is
printed before and after; ``--threads 1`` avoids multi-threaded BLAS thrashing under load.

Usage::

    python tools/benchmarks/benchmark_projectors.py [--groups C4 SO2] [--sizes 3 4 ... 16]
        [--emlp-python /tmp/emlp-venv/bin/python] [--emlp-timeout 120] [--emlp-probe-sizes 14]
        [--svd-time-cap 120] [--svd-memory-cap-gb 4] [--threads 1] [--repeats 3]
        [--skip equivariant invariant backbones generators levels]

emlp's interpreter is prepared once, outside the project (see ``docs/benchmarks.md``)::

    python3 -m venv /tmp/emlp-venv && /tmp/emlp-venv/bin/pip install emlp six
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import platform
import statistics
import subprocess
import tempfile
import time
from typing import Callable, Optional

#: Invariant projectors each backbone needs: (grid size k, reference softness) per layer kind
#: (ResNet-50 and SegFormer convs at 0.95, ViT/DINOv2 patch and position grids).
BACKBONE_LAYERS = {
    'ViT-B/16 (224)': ((16, 1.0), (14, 0.9)),            # patch conv 16x16, position grid 14x14
    'DINOv2-B/14 (518)': ((14, 0.95), (37, 1.0)),        # patch conv 14x14, position grid 37x37
    'ResNet-50': ((7, 0.95), (3, 0.95)),                 # stem 7x7, bottleneck 3x3
    'SegFormer MiT-B0..B5': ((7, 0.95), (3, 0.95), (8, 0.95), (4, 0.95), (2, 0.95)),
}

#: The paper's discretisation per backbone: (order n of C_n, the backbone's layers).
BILINEAR_BACKBONES = {
    'ViT-B/16 (224)': 720, 'DINOv2-B/14 (518)': 720, 'ResNet-50': 18,
    'SegFormer MiT-B0..B5': 36,
}
#: Groups (name, generator) and grid sizes of the softness-levels table.
LEVEL_GROUPS = (('SO2', 'resampled'), ('O2', 'resampled'), ('C8', 'resampled'),
                ('C4', 'resampled'), ('C4', 'spectral'), ('D4', 'spectral'), ('C8', 'spectral'),
                ('SO2', 'spectral'), ('O2', 'spectral'), ('C36', 'bilinear'))
LEVEL_SIZES = (3, 7, 14, 16)

#: Targets checked at the end of a run.
TARGET_GRID_MAP_K = 14
TARGET_GRID_MAP_SECONDS = 0.5
TARGET_BACKBONE_SECONDS = 2.0
TARGET_SVD_RATIO = 1000.0
TARGET_PEER_SECONDS = 1.0

#: Largest emlp basis (n x r entries) sent back for the subspace check.
MAX_BASIS_ENTRIES = 100_000_000


# ---------------------------------------------------------------------------------------------
# emlp worker: runs in emlp's interpreter (numpy + emlp + jax only; no mmsofteq, no torch).
# ---------------------------------------------------------------------------------------------

def emlp_worker(request_path: str, result_path: str) -> None:
    """Solve one case with emlp and write ``result_path`` (npz).

    The request holds ``discrete`` ``(M, N, N)`` (group elements ρ(h), emlp forms ρ(h) − I)
    and ``lie`` ``(D, N, N)`` (Lie algebra generators, emlp forms the Kronecker sum). The
    result holds ``status`` ('ok' or the exception's class name), ``seconds``, ``message``,
    ``rank`` and, when small enough, ``basis`` ``(n, r)`` with rows in emlp's row-major
    ``(out, in)`` order.
    """
    import numpy as np
    request = np.load(request_path)
    import jax
    if bool(request['x64']):
        jax.config.update('jax_enable_x64', True)
    import emlp
    from emlp.groups import SO, Group
    from emlp.reps import V

    class GridGroup(Group):
        """A matrix group given by its generators (emlp's documented way to add a group)."""

        def __init__(self, label: str, discrete: np.ndarray, lie: np.ndarray) -> None:
            self.discrete_generators = discrete
            self.lie_algebra = lie
            super().__init__(label)

    # Warm up jax/XLA (backend start-up, first compilation) on a tiny problem, untimed.
    np.asarray((V(SO(2)) >> V(SO(2))).equivariant_basis())
    versions = f'emlp {emlp.__version__}, jax {jax.__version__}'
    label = str(request['label'])
    start = time.perf_counter()
    try:
        group = GridGroup(label, request['discrete'], request['lie'])
        basis = np.asarray((V(group) >> V(group)).equivariant_basis())
        seconds = time.perf_counter() - start
    except Exception as error:  # report any failure of the peer, e.g. ConvergenceError
        np.savez(result_path, status=type(error).__name__, seconds=time.perf_counter() - start,
                 message=str(error)[:300], rank=-1, versions=versions)
        return
    keep = basis.size <= int(request['max_basis_entries'])
    np.savez(result_path, status='ok', seconds=seconds, message='', rank=basis.shape[1],
             versions=versions, basis=basis if keep else np.zeros((0, 0)))


# ---------------------------------------------------------------------------------------------
# Our side.
# ---------------------------------------------------------------------------------------------

def clear_all_caches() -> None:
    """Cold start: projector and decomposition caches, and the generator caches of ``groups``."""
    import mmsofteq.groups.asymmetry as asymmetry
    import mmsofteq.groups.grid as grid
    import mmsofteq.groups.group as group
    from mmsofteq.projection import clear_projector_cache
    clear_projector_cache()
    for module in (grid, group, asymmetry):
        for value in vars(module).values():
            if callable(getattr(value, 'cache_clear', None)):
                value.cache_clear()


def median_time(build: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``build()`` over ``repeats`` runs, each from cold caches."""
    times = []
    for _ in range(repeats):
        clear_all_caches()
        start = time.perf_counter()
        build()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f'{one:.2f}, {five:.2f}, {fifteen:.2f}'


def svd_memory_bytes(n: int, constraints: int) -> float:
    """Peak bytes of our SVD route: stacked ``(K n) x n``, its economy ``U``, ``V``, ``P``."""
    return 8.0 * n * n * (2 * constraints + 3)


def emlp_request(group: str, k: int) -> tuple[object, object]:
    """emlp's inputs built from *our* generators: (discrete elements, Lie generators)."""
    import numpy as np

    from mmsofteq.groups import GridSpace, parse_group
    discrete, lie = [], []
    for generator in parse_group(group).generators(GridSpace(k), True):
        if generator.kind == 'lie':
            lie.append(np.array(generator.matrix))
        else:
            discrete.append(generator.matrix + np.eye(generator.dim))  # ρ(h) = D + I
    size = k * k
    return (np.array(discrete).reshape(-1, size, size), np.array(lie).reshape(-1, size, size))


def run_emlp(python: str, group: str, k: int, timeout: float, x64: bool,
             workdir: str) -> dict:
    """One emlp case in a subprocess. Returns ``status``, ``seconds``, ``message``, basis."""
    import numpy as np
    discrete, lie = emlp_request(group, k)
    request = osp.join(workdir, f'request_{group}_{k}.npz')
    result = osp.join(workdir, f'result_{group}_{k}.npz')
    np.savez(request, discrete=discrete, lie=lie, label=f'{group}_grid{k}', x64=x64,
             max_basis_entries=MAX_BASIS_ENTRIES)
    command = [python, osp.abspath(__file__), '--emlp-worker', request, result]
    # TQDM_DISABLE: emlp's Krylov progress bar hands tqdm a numpy.float32 under numpy 2
    # (NEP 50), which tqdm's ETA rejects (TypeError); without the bar the solver runs as is.
    env = dict(os.environ, JAX_PLATFORMS='cpu', TF_CPP_MIN_LOG_LEVEL='3', TQDM_DISABLE='1')
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=env, start_new_session=True, text=True)
    try:
        _, stderr = process.communicate(timeout=timeout + 60)  # + start-up and warm-up
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.communicate()
        return dict(status='timeout', seconds=timeout, message='')
    finally:
        if osp.exists(request):
            os.remove(request)
    if not osp.exists(result):
        last = stderr.strip().splitlines()[-1] if stderr.strip() else f'exit {process.returncode}'
        return dict(status='crashed', seconds=time.perf_counter() - start, message=last[:200])
    with np.load(result) as data:
        out = {key: data[key] for key in data.files}
    os.remove(result)
    out = dict(status=str(out['status']), seconds=float(out['seconds']),
               message=str(out['message']), rank=int(out['rank']), versions=str(out['versions']),
               basis=out.get('basis'))
    if out['status'] == 'ok' and out['seconds'] > timeout:
        out['status'] = 'timeout'  # finished, but over the per-case limit
    return out


def emlp_cell(result: Optional[dict], timeout: float) -> str:
    if result is None:
        return 'not run'
    status = result['status']
    if status == 'ok':
        return f'{result["seconds"]:.3f}'
    if status == 'timeout':
        return f'timeout {timeout:.0f} s'
    if status.startswith('skipped'):
        return status
    return f'{status} after {result["seconds"]:.0f} s'


def compare_subspaces(group: str, k: int, basis) -> tuple[int, str]:
    """Rank of our softness-0 projector and ``sin θ_max`` against emlp's basis.

    emlp's basis rows index row-major ``W[out, in]``; ours act on column-major ``vec(W)``.
    ``Q`` is re-orthonormalised in float64 (emlp solves in float32); with ``P`` our orthogonal
    projector, ``‖(I − P) Q‖₂`` is the sine of the largest principal angle from span(Q) to
    range(P) (both ways when the ranks agree).
    """
    import numpy as np

    from mmsofteq.projection import equivariant_projector
    projector = equivariant_projector(group, k, k, softness=0.0, method='schur')
    rank = projector.certificate.kept
    if basis is None or basis.size == 0:
        return rank, '(basis too large to compare)'
    size = k * k
    q, _ = np.linalg.qr(np.asarray(basis, dtype=np.float64))
    maps = q.T.reshape(-1, size, size)                         # (r, out, in)
    projected = maps
    if projector.dense is not None:
        flat = maps.transpose(0, 2, 1).reshape(len(maps), -1)  # column-major vec(W)
        projected = (flat @ projector.dense.T).reshape(-1, size, size).transpose(0, 2, 1)
    else:
        for factor in projector.factors:
            coefficients = factor.basis_out.conj().T @ projected @ factor.basis_in
            projected = np.real(factor.basis_out @ (factor.weights * coefficients)
                                @ factor.basis_in.conj().T)
    residual = (maps - projected).reshape(len(maps), -1)
    sine = float(np.linalg.norm(residual, 2)) if residual.size else 0.0
    return rank, f'{sine:.1e}'


def equivariant_table(args: argparse.Namespace, results: dict) -> None:
    from mmsofteq.groups import GridSpace, parse_group
    from mmsofteq.projection import equivariant_projector
    from mmsofteq.utils import markdown_header, markdown_row
    run_peer = bool(args.emlp_python)
    print('## Equivariant grid→grid projectors (k x k → k x k, n = k⁴)\n')
    print(f'fast route: median of {args.repeats}; SVD route: median of {args.repeats} for '
          'n <= 1000, else one run; emlp: one run per case, float'
          f'{64 if args.emlp_x64 else 32}, "timeout" = no result after --emlp-timeout s. '
          f'Ours at softness {args.softness:g} (the decomposition, shared by every softness, '
          'is the cost); emlp computes the strict (softness-0) basis. sin θ_max: largest '
          'principal angle between emlp\'s basis and the range of our softness-0 projector.\n')
    print(markdown_header(['group', 'k', 'n', 'ours fast [s]', 'ours SVD [s]', 'emlp [s]',
                           'SVD / fast', 'emlp / fast', 'rank ours / emlp', 'sin θ_max']))
    workdir = tempfile.mkdtemp(prefix='benchmark_emlp_')
    for group in args.groups:
        constraints = len(parse_group(group).generators(GridSpace(2), True))
        last_svd: Optional[tuple[int, float]] = None
        peer_failed_at: Optional[int] = None
        for k in args.sizes:
            n = k ** 4
            fast = median_time(lambda: equivariant_projector(
                group, k, k, softness=args.softness, method='schur'), args.repeats)
            # --- our dense SVD route, within the caps ---
            svd: Optional[float] = None
            predicted = last_svd[1] * (n / last_svd[0]) ** 3 if last_svd else 0.0
            memory = svd_memory_bytes(n, constraints) / 2 ** 30
            svd_skipped = None
            if args.max_svd_dim and n > args.max_svd_dim:
                svd_skipped = f'skipped (n > --max-svd-dim {args.max_svd_dim})'
            elif memory > args.svd_memory_cap_gb:
                svd_skipped = (f'skipped: needs ~{memory:.1f} GiB > cap '
                               f'{args.svd_memory_cap_gb:g} GiB')
            elif predicted > args.svd_time_cap:
                svd_skipped = (f'skipped: ~{predicted:,.0f} s predicted (n³ from k='
                               f'{round(last_svd[0] ** 0.25)}) > cap {args.svd_time_cap:g} s')
            if svd_skipped is None:
                svd = median_time(lambda: equivariant_projector(
                    group, k, k, softness=args.softness, method='svd'),
                    1 if n > 1000 else args.repeats)
                last_svd = (n, svd)
                results['svd'][group] = (k, svd, fast)
            svd_text = f'{svd:.3f}' if svd is not None else svd_skipped
            # --- emlp ---
            peer = None
            if run_peer:
                if peer_failed_at is not None and k not in args.emlp_probe_sizes:
                    peer = dict(status=f'skipped (failed at k={peer_failed_at})')
                else:
                    peer = run_emlp(args.emlp_python, group, k, args.emlp_timeout, args.emlp_x64,
                                    workdir)
                    if peer.get('versions'):
                        results['emlp_versions'] = peer['versions']
                    if peer['status'] != 'ok' and peer_failed_at is None:
                        peer_failed_at = k
                results['emlp'][(group, k)] = peer
            rank_text, angle_text = '—', '—'
            if peer is not None and peer['status'] == 'ok':
                rank_ours, angle_text = compare_subspaces(group, k, peer.get('basis'))
                rank_text = f'{rank_ours} / {peer["rank"]}'
            ratio_svd = f'{svd / fast:,.0f}x' if svd is not None else '—'
            ratio_peer = (f'{peer["seconds"] / fast:,.0f}x' if peer and peer['status'] == 'ok'
                          else '—')
            results['fast'][(group, k)] = fast
            print(markdown_row([
                group, k, f'{n:,}', f'{fast:.4f}', svd_text,
                emlp_cell(peer, args.emlp_timeout) if run_peer else 'not run', ratio_svd,
                ratio_peer, rank_text, angle_text]), flush=True)
    os.rmdir(workdir)
    failures = [(key, peer) for key, peer in results['emlp'].items()
                if peer is not None and peer['status'] not in ('ok', 'timeout')
                and not peer['status'].startswith('skipped')]
    for (group, k), peer in failures:
        print(f'\nemlp {group} k={k}: {peer["status"]}: {peer["message"]}', end='')
    if failures:
        print()


def invariant_table(args: argparse.Namespace) -> None:
    from mmsofteq.projection import invariant_projector
    from mmsofteq.utils import markdown_header, markdown_row
    print('\n## Invariant projectors (k x k grid, N = k²)\n')
    print(f'softness {args.softness:g}; median of {args.repeats}, cold caches.\n')
    print(markdown_header(['group', 'k', 'N', 'SVD route [s]', 'fast route [s]', 'SVD / fast']))
    for group in args.groups:
        for k in args.invariant_sizes:
            svd = median_time(lambda: invariant_projector(
                group, k, softness=args.softness, method='svd'), args.repeats)
            fast = median_time(lambda: invariant_projector(
                group, k, softness=args.softness, method='schur'), args.repeats)
            print(markdown_row([group, k, f'{k * k:,}', f'{svd:.4f}', f'{fast:.4f}',
                                f'{svd / fast:.1f}x']), flush=True)


def backbone_table(args: argparse.Namespace, results: dict) -> None:
    from mmsofteq.projection import invariant_projector
    from mmsofteq.utils import markdown_header, markdown_row
    print('\n## Every invariant projector a backbone needs (fast route, cold caches)\n')
    print('reference softness per layer, the paper\'s (in brackets); last column: every layer '
          f'at softness {args.softness:g}. Median of {args.repeats}.\n')
    print(markdown_header(['group', 'backbone', 'grids [softness]',
                           'total, reference softness [s]',
                           f'total, softness {args.softness:g} [s]']))
    union = sorted({layer for layers in BACKBONE_LAYERS.values() for layer in layers})
    for group in args.groups:
        for name, layers in list(BACKBONE_LAYERS.items()) + [('all four (union)', union)]:
            reference = median_time(lambda: [invariant_projector(group, k, softness=s)
                                             for k, s in layers], args.repeats)
            uniform = median_time(lambda: [invariant_projector(group, k, softness=args.softness)
                                           for k in sorted({k for k, _ in layers})],
                                  args.repeats)
            if name.startswith('all four'):
                results['backbones'][group] = (reference, uniform)
            grids = ', '.join(f'{k} [{s:g}]' for k, s in layers)
            print(markdown_row([group, name, grids, f'{reference:.3f}', f'{uniform:.3f}']),
                  flush=True)


def generator_table(args: argparse.Namespace, results: dict) -> None:
    """The default (resampled SO2), spectral SO2 and the paper's bilinear C_n, every invariant
    projector per backbone."""
    from mmsofteq.projection import invariant_projector
    from mmsofteq.utils import markdown_header, markdown_row
    print('\n## Every invariant projector a backbone needs, per generator (cold caches)\n')
    print('Reference softness per layer (in brackets), position grids on the data side. '
          'Resampled (the default) and spectral: SO2, rounding frequency; bilinear: the '
          f'paper\'s C_n, rounding index. Median of {args.repeats}.\n')
    print(markdown_header(['backbone', 'grids [softness]', 'resampled SO2 [s]',
                           'spectral SO2 [s]', 'bilinear C_n', 'bilinear [s]']))
    for name, layers in BACKBONE_LAYERS.items():
        order = BILINEAR_BACKBONES[name]
        sides = ['data' if index == 1 and name.startswith(('ViT', 'DINOv2')) else 'kernel'
                 for index in range(len(layers))]

        def build(group, **extra):
            return [invariant_projector(group, k, softness=softness, side=side, **extra)
                    for (k, softness), side in zip(layers, sides)]

        resampled = median_time(lambda: build('SO2'), args.repeats)
        spectral = median_time(lambda: build('SO2', generator='spectral'), args.repeats)
        bilinear = median_time(lambda: build(f'C{order}', generator='bilinear',
                                             rounding='index'), args.repeats)
        results['generators'][name] = (resampled, spectral, bilinear)
        grids = ', '.join(f'{k} [{softness:g}]' for k, softness in layers)
        print(markdown_row([name, grids, f'{resampled:.3f}', f'{spectral:.3f}', f'C{order}',
                            f'{bilinear:.3f}']), flush=True)


def levels_table(args: argparse.Namespace) -> None:
    """How many distinct projectors 101 softness values give, per rounding rule."""
    from mmsofteq.projection import ROUNDINGS, invariant_projector
    from mmsofteq.utils import markdown_header, markdown_row
    print('\n## Distinct projectors over softness 0, 0.01, ..., 1\n')
    print('Number of distinct kept-direction counts (hard cutoff) among the 101 projectors; '
          'k² is the most possible.\n')
    print(markdown_header(['group', 'generator', 'k', 'k²', *ROUNDINGS]))
    softness_values = [round(0.01 * i, 2) for i in range(101)]
    for group, generator in LEVEL_GROUPS:
        for k in LEVEL_SIZES:
            counts = [len({invariant_projector(group, k, softness=s, rounding=rounding,
                                               generator=generator).certificate.kept
                           for s in softness_values}) for rounding in ROUNDINGS]
            print(markdown_row([group, generator, k, k * k, *counts]), flush=True)


def targets(args: argparse.Namespace, results: dict) -> None:
    from mmsofteq.utils import markdown_header, markdown_row
    print('\n## Targets\n')
    print(markdown_header(['target', 'group', 'measured', 'met']))
    for group in args.groups:
        fast = results['fast'].get((group, TARGET_GRID_MAP_K))
        if fast is not None:
            print(markdown_row([
                f'{TARGET_GRID_MAP_K}x{TARGET_GRID_MAP_K} grid→grid, fast route < '
                f'{TARGET_GRID_MAP_SECONDS:g} s', group, f'{fast:.3f} s',
                'yes' if fast < TARGET_GRID_MAP_SECONDS else 'NO']))
        if group in results['svd']:
            k, svd, fast_k = results['svd'][group]
            print(markdown_row([
                f'≥ {TARGET_SVD_RATIO:,.0f}x faster than dense SVD at the largest size it '
                f'finished (k={k})', group, f'{svd / fast_k:,.0f}x',
                'yes' if svd / fast_k >= TARGET_SVD_RATIO else 'NO']))
        peer = results['emlp'].get((group, TARGET_GRID_MAP_K))
        if fast is not None and args.emlp_python:
            peer_text = emlp_cell(peer, args.emlp_timeout)
            only = fast < TARGET_PEER_SECONDS and not (
                peer and peer['status'] == 'ok' and peer['seconds'] < TARGET_PEER_SECONDS)
            print(markdown_row([
                f'only one to finish {TARGET_GRID_MAP_K}x{TARGET_GRID_MAP_K} in < '
                f'{TARGET_PEER_SECONDS:g} s', group, f'ours {fast:.3f} s, emlp {peer_text}',
                'yes' if only else 'NO']))
        if group in results['backbones']:
            reference, uniform = results['backbones'][group]
            print(markdown_row([
                f'every backbone invariant projector < {TARGET_BACKBONE_SECONDS:g} s', group,
                f'{reference:.3f} s (reference softness), {uniform:.3f} s '
                f'(softness {args.softness:g})',
                'yes' if max(reference, uniform) < TARGET_BACKBONE_SECONDS else 'NO']))
    for name, times in results['generators'].items():
        print(markdown_row([
            f'{name}: every invariant projector with any generator < '
            f'{TARGET_BACKBONE_SECONDS:g} s',
            f'SO2 resampled / spectral / C{BILINEAR_BACKBONES[name]} bilinear',
            ' / '.join(f'{t:.3f} s' for t in times),
            'yes' if max(times) < TARGET_BACKBONE_SECONDS else 'NO']))


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--groups', nargs='+', default=['C4', 'SO2'])
    parser.add_argument('--sizes', nargs='+', type=int, default=list(range(3, 17)),
                        help='grid sizes k of the equivariant k x k → k x k maps')
    parser.add_argument('--invariant-sizes', nargs='+', type=int, default=[3, 7, 14, 16, 37])
    parser.add_argument('--softness', type=float, default=0.9)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--max-svd-dim', type=int, default=0,
                        help='largest n = k^4 for the dense SVD route (0: only the caps apply)')
    parser.add_argument('--svd-time-cap', type=float, default=120.0,
                        help='skip the SVD route once its n³ extrapolation exceeds this [s]')
    parser.add_argument('--svd-memory-cap-gb', type=float, default=4.0,
                        help='skip the SVD route once its estimated memory exceeds this [GiB]')
    parser.add_argument('--emlp-python', default=None,
                        help="interpreter of a separate venv with emlp installed (e.g. "
                             "/tmp/emlp-venv/bin/python); omitted: no emlp column")
    parser.add_argument('--emlp-timeout', type=float, default=120.0,
                        help='per-case limit for emlp [s], excluding its start-up')
    parser.add_argument('--emlp-probe-sizes', nargs='*', type=int, default=[14],
                        help='sizes emlp is still tried at after it failed at a smaller one')
    parser.add_argument('--emlp-x64', action='store_true',
                        help='run emlp in float64 (jax_enable_x64); default: its float32')
    parser.add_argument('--threads', type=int, default=0,
                        help='BLAS/torch threads (sets OPENBLAS/OMP/MKL_NUM_THREADS before '
                             'numpy is imported; 0: leave as is)')
    parser.add_argument('--skip', nargs='*', default=[],
                        choices=['equivariant', 'invariant', 'backbones', 'generators',
                                 'levels'])
    parser.add_argument('--emlp-worker', nargs=2, metavar=('REQUEST', 'RESULT'),
                        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    if args.emlp_worker:
        emlp_worker(*args.emlp_worker)
        return
    if args.threads:
        for name in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
            os.environ[name] = str(args.threads)
    import numpy as np
    import scipy
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    results: dict = dict(fast={}, svd={}, emlp={}, backbones={}, generators={})
    print(f'# Projector construction benchmark — {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}\n')
    print(f'machine: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), '
          f'load average {load_average()} (start); numpy {np.__version__}, scipy '
          f'{scipy.__version__}, torch {torch.__version__}; BLAS threads '
          f'{os.environ.get("OPENBLAS_NUM_THREADS", "default")}, torch threads '
          f'{torch.get_num_threads()}\n')
    start = time.perf_counter()
    if 'equivariant' not in args.skip:
        equivariant_table(args, results)
    if 'invariant' not in args.skip:
        invariant_table(args)
    if 'backbones' not in args.skip:
        backbone_table(args, results)
    if 'generators' not in args.skip:
        clear_all_caches()
        generator_table(args, results)
    if 'levels' not in args.skip:
        levels_table(args)
    targets(args, results)
    print(f'\nemlp: {results.get("emlp_versions", "not run" if not args.emlp_python else "?")}'
          f'; run time {time.perf_counter() - start:.0f} s; load average {load_average()} '
          '(end)')


if __name__ == '__main__':
    main()
