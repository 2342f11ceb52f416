"""Projected kernels per softness, like the paper's Fig. 1, saved as a PNG grid.

    python -m softeq_lab.filters.visualize_filters                    # digit scans, SO(2)
    python -m softeq_lab.filters.visualize_filters --group C4 --softness 0 0.5 1 \
        --source random --size 5
    python -m softeq_lab.filters.visualize_filters --checkpoint CKPT \
        --layer backbone.layers.0.0.projection.weight \
        --config configs/demo/segformer_softeq_demo.py                  # group etc. from softeq

Each row is one ``k x k`` kernel ``K``, each column ``K_eff = reshape(vec(K) P_s)`` with
``P_s = mmsofteq.projection.invariant_projector(group, k, softness=s)``: softness 0 keeps
only the group-invariant part, 1 leaves ``K`` unchanged. Kernels come from a real digit
scan (default), random normals, or slices ``weight[out, in]`` of a checkpoint's conv
weight (checkpoints hold ``θ``, the raw kernels the projector acts on). With ``--config``,
group / cutoff / decay / method / rounding / generator default to the config's ``softeq`` dict.
"""
import argparse
import os.path as osp

from softeq_lab.filters.kernels import (checkpoint_kernels, draw_projected_kernels, project_kernel,
                                        sample_kernels)

from mmsofteq.projection import CUTOFF_KINDS, GENERATORS, ROUNDINGS

DEFAULT_SOFTNESS = (0.0, 0.25, 0.5, 0.75, 0.9, 1.0)
#: the keys of a config's ``softeq`` that set the drawn projector (``softness`` is the grid's)
PROJECTOR_KEYS = ('group', 'cutoff', 'decay', 'method', 'rounding', 'generator')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Draw kernels projected at several softness '
                                     'values (soft rotation invariance), as a PNG grid.')
    parser.add_argument('--group', help='SO2 | O2 | C<n> | D<n> (default: the config\'s '
                        'softeq.group, else SO2)')
    parser.add_argument('--softness', type=float, nargs='+', default=list(DEFAULT_SOFTNESS))
    parser.add_argument('--cutoff', choices=CUTOFF_KINDS, help='default: config or hard')
    parser.add_argument('--decay', type=float, help='decay of the smooth cutoff')
    parser.add_argument('--method', choices=('auto', 'svd', 'schur'),
                        help='default: config or auto')
    parser.add_argument('--rounding', choices=ROUNDINGS, help='default: config or frequency')
    parser.add_argument('--generator', choices=GENERATORS,
                        help='default: config or spectral (bilinear: the paper\'s C_n)')
    parser.add_argument('--source', choices=('digit', 'random'), default='digit',
                        help='kernels when no --checkpoint: real digit scans (default) or '
                        'standard normal entries')
    parser.add_argument('--size', type=int, default=9, help='kernel side k (no --checkpoint)')
    parser.add_argument('--num-kernels', type=int, default=3, help='rows (no --checkpoint)')
    parser.add_argument('--seed', type=int, default=0,
                        help='first digit scan index / random seed')
    parser.add_argument('--checkpoint', help='take kernels from this checkpoint')
    parser.add_argument('--layer', help='state-dict key of a conv weight (with --checkpoint)')
    parser.add_argument('--slices', nargs='+', default=['0,0', '1,0', '2,0'],
                        help='out,in pairs of the weight to draw (with --checkpoint)')
    parser.add_argument('--config', help='config whose softeq dict gives group, cutoff, '
                        'decay, method, rounding and generator (options given here win)')
    parser.add_argument('--out', default='work_dirs/visualize_filters/filters.png')
    args = parser.parse_args(argv)
    if args.checkpoint and not args.layer:
        parser.error('--checkpoint needs --layer NAME (a conv weight key)')
    if args.layer and not args.checkpoint:
        parser.error('--layer needs --checkpoint')
    if any(not 0.0 <= s <= 1.0 for s in args.softness):
        parser.error(f'--softness values must lie in [0, 1], got {args.softness}')
    try:
        args.slices = [tuple(int(v) for v in item.split(',')) for item in args.slices]
    except ValueError:
        parser.error(f'--slices must be out,in pairs of integers, got {args.slices}')
    if any(len(item) != 2 for item in args.slices):
        parser.error(f'--slices must be out,in pairs of integers, got {args.slices}')
    if args.size < 2 or args.num_kernels < 1:
        parser.error('--size must be >= 2 and --num-kernels >= 1')
    return args


def softeq_options(config_path):
    """The projector keys (:data:`PROJECTOR_KEYS`) of a config's ``softeq`` dict (``{}``
    without one)."""
    if not config_path:
        return {}
    from mmengine.config import Config

    from mmsofteq.apis import find_softeq
    cfg = Config.fromfile(config_path)
    place = find_softeq(cfg)
    softeq = place.container(cfg)['softeq'] if place is not None else cfg.get('softeq') or {}
    return {key: softeq[key] for key in PROJECTOR_KEYS if key in softeq}


def load_kernels(args):
    """``(kernels, row labels)`` from the checkpoint or the chosen source."""
    if args.checkpoint:
        from mmsofteq.utils import load_checkpoint_file  # checked like every mmsofteq load
        checkpoint = load_checkpoint_file(args.checkpoint, map_location='cpu')
        state_dict = checkpoint.get('state_dict', checkpoint)
        kernels = checkpoint_kernels(state_dict, args.layer, args.slices)
        return kernels, [f'{args.layer}\n[{o}, {i}]' for o, i in args.slices]
    kernels = sample_kernels(args.source, args.size, args.num_kernels, args.seed)
    label = 'digit scan' if args.source == 'digit' else 'N(0, 1), seed'
    return kernels, [f'{label} {args.seed + i}' for i in range(len(kernels))]


def main(argv=None):
    """Draw the grid; returns ``(png path, rows)`` where ``rows[r][c]`` is the
    :class:`softeq_lab.filters.kernels.ProjectedKernel` of kernel ``r`` at softness ``c``."""
    args = parse_args(argv)
    for what, path in (('config', args.config), ('checkpoint', args.checkpoint)):
        if path is not None and not osp.isfile(path):
            raise SystemExit(f'error: {what} not found: {path}')
    options = softeq_options(args.config)
    group = args.group or options.get('group', 'SO2')
    cutoff = args.cutoff or options.get('cutoff', 'hard')
    decay = args.decay if args.decay is not None else options.get('decay')
    method = args.method or options.get('method', 'auto')
    rounding = args.rounding or options.get('rounding', 'frequency')
    generator = args.generator or options.get('generator', 'spectral')
    try:
        kernels, labels = load_kernels(args)
        rows = [project_kernel(kernel, group, args.softness, cutoff=cutoff, decay=decay,
                               method=method, rounding=rounding, generator=generator)
                for kernel in kernels]
    except (KeyError, ValueError) as error:
        raise SystemExit(f'error: {error}')
    size = rows[0][0].kernel.shape[0]
    title = (f'{group} ({generator}, {cutoff} cutoff, {rounding} rounding): {size}x{size} '
             'kernels projected per softness')
    png = draw_projected_kernels(rows, args.out, labels, title)
    print(f'[visualize_filters] {png}')
    return png, rows


if __name__ == '__main__':
    main()
