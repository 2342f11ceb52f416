"""Generate the offline demo data: real handwritten digits in VOC / class-folder layouts.

    python -m softeq_lab.digits.make_demo_data       # both sets, defaults
    python -m softeq_lab.digits.make_demo_data --task seg --num-train 300 --num-val 100 \
        --size 64 --seed 0

Segmentation: ``data/demo_voc`` (PASCAL VOC layout, 11 classes: background + digits 0-9).
Classification: ``data/demo_digits_cls`` (``train/<d>_<name>/*.png``, ``meta/{train,val}.txt``).
Same arguments => same bytes; a second run with the same arguments does nothing. See
``docs/demo_data.md``.
"""
import argparse
import sys
import time

from softeq_lab.digits.render import INK_FRACTIONS, MAX_INK_FRACTION
from softeq_lab.digits.writer import (ClassificationSpec, SegmentationSpec, UnsafeTargetError,
                                      build_demo_set)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Compose scikit-learn\'s 1,797 real 8x8 handwritten digit scans into a '
        'PASCAL-VOC-layout segmentation set and a class-folder classification set.')
    parser.add_argument('--task', choices=('seg', 'cls', 'both'), default='both')
    parser.add_argument('--out', default='data/demo_voc',
                        help='segmentation set directory (VOC layout)')
    parser.add_argument('--cls-out', default='data/demo_digits_cls',
                        help='classification set directory')
    parser.add_argument('--num-train', type=int, default=300, help='segmentation train images')
    parser.add_argument('--num-val', type=int, default=100, help='segmentation val images')
    parser.add_argument('--size', type=int, default=64, help='segmentation canvas side (px)')
    parser.add_argument('--boundary', type=int, default=1,
                        help='width (px) of the 255 ignore band around digits; 0 disables it')
    parser.add_argument('--max-digits', type=int, default=3, help='digits per canvas: 1..N')
    parser.add_argument('--threshold', type=float, default=0.5,
                        help='a pixel is labelled with its digit where the upscaled scan '
                        'intensity (0..1) exceeds this (default: %(default)s)')
    parser.add_argument('--ink-fraction', type=float, nargs=2, metavar=('LOW', 'HIGH'),
                        default=list(INK_FRACTIONS['seg']),
                        help='segmentation digit size as fractions of the canvas side '
                        f'(default: %(default)s; at most {MAX_INK_FRACTION}: rotation-safe)')
    parser.add_argument('--cls-size', type=int, default=32, help='classification image side')
    parser.add_argument('--cls-num-train', type=int, default=None,
                        help='classification train images (default: every train scan once)')
    parser.add_argument('--cls-num-val', type=int, default=None,
                        help='classification val images (default: every val scan once)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--force', action='store_true',
                        help='replace a non-empty directory we did not make (it is moved to '
                        '<dir>.replaced-<time>); a real VOC tree is refused regardless')
    parser.add_argument('--quiet', action='store_true', help='no progress bar')
    args = parser.parse_args(argv)
    if not 0.0 <= args.threshold < 1.0:
        parser.error(f'--threshold must be in [0, 1), got {args.threshold:g}')
    low, high = args.ink_fraction
    if not 0.0 < low <= high <= MAX_INK_FRACTION:
        parser.error(f'--ink-fraction LOW HIGH must satisfy 0 < LOW <= HIGH <= '
                     f'{MAX_INK_FRACTION} (a larger digit leaves the rotation-safe disc), got '
                     f'{low:g} {high:g}')
    return args


def progress_bar(total: int, title: str):
    """mmengine's ProgressBar on stderr, redrawn ~50 times."""
    from mmengine.utils import ProgressBar

    sys.stderr.write(f'{title}\n')
    bar = ProgressBar(total, file=sys.stderr)
    step = max(1, total // 50)
    pending = [0]

    def advance():
        pending[0] += 1
        if pending[0] >= step or bar.completed + pending[0] >= total:
            bar.update(pending[0])
            pending[0] = 0
            if bar.completed >= total:
                sys.stderr.write('\n')

    return advance


def segmentation_spec(args: argparse.Namespace) -> SegmentationSpec:
    """The segmentation set the parsed command line asks for."""
    return SegmentationSpec(seed=args.seed, num_train=args.num_train, num_val=args.num_val,
                            size=args.size, boundary=args.boundary, max_digits=args.max_digits,
                            threshold=args.threshold, ink_fraction=tuple(args.ink_fraction))


def main(argv=None) -> int:
    args = parse_args(argv)
    jobs = []
    if args.task in ('seg', 'both'):
        jobs.append((args.out, segmentation_spec(args)))
    if args.task in ('cls', 'both'):
        jobs.append((args.cls_out, ClassificationSpec(seed=args.seed, size=args.cls_size,
                                                      num_train=args.cls_num_train,
                                                      num_val=args.cls_num_val)))
    if len(jobs) == 2:
        from pathlib import Path
        seg, cls = (Path(path).absolute() for path, _ in jobs)
        if seg == cls or seg in cls.parents or cls in seg.parents:
            print(f'error: --out {seg} and --cls-out {cls} must be separate directories',
                  file=sys.stderr)
            return 2
    progress = (lambda total, title: (lambda: None)) if args.quiet else progress_bar
    for path, spec in jobs:
        start = time.time()
        try:
            outcome = build_demo_set(path, spec, force=args.force, progress=progress,
                                     log=lambda message: print(message, file=sys.stderr))
        except (UnsafeTargetError, ValueError) as error:
            print(f'error: {error}', file=sys.stderr)
            return 1
        print(f'{path}: {outcome} ({time.time() - start:.1f}s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
