"""SoftEq vs the rotation baselines on real handwritten digits, on the same rotated metrics.

    python -m softeq_lab.tunability.baselines_digits [--out-dir work_dirs/baselines_digits]
        [--methods softeq:1 softeq:0.9 softeq:0.5 softeq:0 gcnn orbit canon] [--seeds 0]
        [--epochs 8] [--width 16] [--threads 1]

One row per method (:mod:`softeq_lab.tunability.baselines`: SoftEq at each softness —
``softeq:1`` is Base, ``softeq:0`` strict SoftEq —, the C4 GCNN from scratch, orbit averaging of
the Base weights, Canon.), all mmpretrain classifiers trained with the same loop on the same
split, scored with the metrics of :mod:`softeq_lab.tunability.core` (Acc, aAcc / cAcc / iErr for
θ ~ U(−180°, 180°), iErr under the exact quarter turn and flip, the ±30° diagnostics). Writes to
``--out-dir``: ``runs.csv`` (one row per run), ``summary.md`` (command, setup, machine, wall
time, the two tables and the plot's name), ``config.json`` and ``baselines_digits.png``. With
the defaults it takes a few minutes on two CPU cores; ``--epochs 1 --methods softeq:1 gcnn`` is
a quick check.
"""
import argparse
import os
import os.path as osp
import shlex
import sys
import time

from softeq_lab.csv_rows import write_run_files
from softeq_lab.tunability import baselines as digit_baselines
from softeq_lab.tunability import core as tunability
from softeq_lab.tunability import tunability_digits


def parse_args(argv=None):
    defaults = digit_baselines.ComparisonConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out-dir', default=osp.join('work_dirs', 'baselines_digits'))
    parser.add_argument('--methods', nargs='+', default=list(defaults.methods),
                        help='softeq:<softness>, gcnn, orbit, canon')
    parser.add_argument('--seeds', nargs='+', type=int, default=list(defaults.seeds))
    parser.add_argument('--epochs', type=int, default=defaults.epochs)
    parser.add_argument('--width', type=int, default=defaults.width,
                        help='base width of the ResNet_CIFAR-18 base CNN')
    parser.add_argument('--gcnn-channels', nargs='+', type=int,
                        default=list(defaults.gcnn_channels))
    parser.add_argument('--batch-size', type=int, default=defaults.batch_size)
    parser.add_argument('--lr', type=float, default=defaults.lr)
    parser.add_argument('--prior-weight', type=float, default=defaults.prior_weight,
                        help='weight of the Canon. prior loss')
    parser.add_argument('--canvas', type=int, default=defaults.canvas,
                        help='grid side (even: the GCNN pools 2x2)')
    parser.add_argument('--digit-size', type=int, default=defaults.digit_size)
    parser.add_argument('--split-seed', type=int, default=defaults.split_seed)
    parser.add_argument('--angle-seed', type=int, default=defaults.angle_seed)
    parser.add_argument('--small-angle', type=float, default=defaults.small_angle)
    parser.add_argument('--threads', type=int, default=defaults.threads,
                        help='torch.set_num_threads')
    return parser.parse_args(argv)


def command_line(argv) -> str:
    return 'python -m softeq_lab.tunability.baselines_digits' + ''.join(
        ' ' + shlex.quote(arg) for arg in argv)


def summary_text(config, summary, wall_seconds, argv, figure) -> str:
    return '\n'.join([
        f'Command: `{command_line(argv)}` ({len(config.methods) * len(config.seeds)} runs).',
        '',
        f'Setup: {config.describe()}.',
        '',
        f'Machine: {tunability_digits.machine_description(config.threads)}; wall time '
        f'{wall_seconds:.0f} s ({wall_seconds / 60:.1f} min), measured inside the tool.',
        '',
        f'Mean ± sample std over seeds {list(config.seeds)}. Acc, aAcc, cAcc in %; iErr = '
        'KL × 100 (θ ~ U(−180°, 180°)).',
        '',
        digit_baselines.markdown_table(summary, digit_baselines.MAIN_TABLE),
        '',
        f'Diagnostics: iErr under the exact quarter turn and left-right flip, rotated metrics '
        f'for θ ~ U(−{config.small_angle:g}°, {config.small_angle:g}°):',
        '',
        digit_baselines.markdown_table(summary, digit_baselines.DIAGNOSTIC_TABLE,
                                       config.small_angle),
        '',
        f'![baselines on digits]({figure})',
    ])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    config = digit_baselines.ComparisonConfig(
        methods=tuple(args.methods), seeds=tuple(args.seeds), canvas=args.canvas,
        digit_size=args.digit_size, width=args.width, gcnn_channels=tuple(args.gcnn_channels),
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        prior_weight=args.prior_weight, split_seed=args.split_seed,
        angle_seed=args.angle_seed, small_angle=args.small_angle, threads=args.threads)
    for method in config.methods:
        digit_baselines.parse_method(method)
    os.makedirs(args.out_dir, exist_ok=True)
    print(f'[baselines] {config.describe()}', flush=True)

    import logging

    from mmengine.logging import MMLogger

    import mmsofteq  # noqa: F401  (registers the mmsofteq scope)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # no projection report per SoftEq model
    start = time.perf_counter()
    try:
        rows = digit_baselines.run_comparison(config, log=lambda line: print(line, flush=True))
    finally:
        logger.setLevel(level)
    summary = digit_baselines.summarise(rows)
    figure = 'baselines_digits.png'
    digit_baselines.plot_summary(summary, osp.join(args.out_dir, figure),
                                 title=f'real digits, {config.canvas}x{config.canvas}, '
                                 f'{config.epochs} epochs, {len(config.seeds)} seed(s)')
    wall_seconds = time.perf_counter() - start

    write_run_files(args.out_dir, rows, digit_baselines.RUN_COLUMNS,
                    dict(tunability.config_dict(config), wall_seconds=wall_seconds,
                         command=command_line(argv)))
    text = summary_text(config, summary, wall_seconds, argv, figure)
    with open(osp.join(args.out_dir, 'summary.md'), 'w') as handle:
        handle.write(text + '\n')
    print('\n' + text)
    print(f'\n[baselines] wall time {wall_seconds:.1f} s; wrote {args.out_dir}/runs.csv, '
          f'summary.md, config.json, {figure}')
    return rows


if __name__ == '__main__':
    main()
