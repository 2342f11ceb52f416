"""Does lowering softness lower the asymmetry users measure? Per generator and kernel size.

    python -m softeq_lab.sweeps.asymmetry_vs_softness [--rows SO2:resampled SO2:spectral ...]
        [--sizes 3 7 14] [--softness 0 0.25 0.5 0.8 0.9 0.95 1] [--check-sizes 2-16]
        [--count 500] [--seed 0] [--markdown] [--out PNG]

For each row ``GROUP:GENERATOR`` and kernel size ``k``: ``--count`` Gaussian ``k x k`` kernels
``θ`` (seeded), projected by ``invariant_projector(GROUP, k, softness=s, generator=GENERATOR)``,
and their root-mean-square relative asymmetry ``sqrt(mean_θ (wᵀ Q w / ‖w‖²))``, ``w = P θ``,
under the rotations the rotated evaluation applies: ``Q`` is the asymmetry form of
``U(-30°, 30°)`` (``mmsofteq.groups.asymmetry``; bilinear resampling compared inside the grid),
for every row, whatever generator built ``P``. ``rot90`` is the same under the exact quarter
turn. The two ``monotone`` columns check ``--check-sizes`` at 41 softness values, under the
group's own rotation measure ``μ`` (``evaluation_measure``: ``U(-30°, 30°)`` for SO2, the
group's elements for Cn/Dn, with reflections for O2) and under ``U(-30°, 30°)``: the
asymmetry never rises as softness falls, and is below the unprojected kernels' whenever the
projector drops a direction (where the measure cannot see the grid, 2x2, the group's exact
elements decide).

``--out`` draws one panel per size: asymmetry against softness, a line per row.
"""
import argparse


DEFAULT_ROWS = ('SO2:resampled', 'SO2:spectral', 'C720:bilinear', 'C36:bilinear',
                'O2:resampled', 'O2:spectral', 'C4:resampled', 'C4:spectral', 'C8:resampled',
                'C8:spectral')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rows', nargs='+', default=list(DEFAULT_ROWS),
                        help='GROUP:GENERATOR pairs (generator: resampled | spectral | bilinear)')
    parser.add_argument('--sizes', nargs='+', type=int, default=[3, 7, 14])
    parser.add_argument('--softness', nargs='+', type=float,
                        default=[0.0, 0.25, 0.5, 0.8, 0.9, 0.95, 1.0])
    parser.add_argument('--check-sizes', default='2-16',
                        help='sizes of the monotone check, "A-B" (default 2-16) or "none"')
    parser.add_argument('--count', type=int, default=500, help='random kernels per size')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--markdown', action='store_true')
    parser.add_argument('--out', help='PNG of asymmetry against softness')
    args = parser.parse_args(argv)
    for row in args.rows:
        if row.count(':') != 1:
            parser.error(f'--rows takes GROUP:GENERATOR, got {row!r}')
    if args.count < 2 or min(args.sizes) < 2:
        parser.error('--count must be >= 2 and --sizes >= 2')
    if any(not 0 <= s <= 1 for s in args.softness):
        parser.error(f'--softness values must lie in [0, 1], got {args.softness}')
    if args.check_sizes == 'none':
        args.check_sizes = []
    else:
        low, _, high = args.check_sizes.partition('-')
        try:
            args.check_sizes = list(range(int(low), int(high or low) + 1))
        except ValueError:
            parser.error(f'--check-sizes takes "A-B" or "none", got {args.check_sizes!r}')
    return args


def asymmetry_curve(group: str, generator: str, size: int, softness, kernels, form, quarter):
    """``(under U(-30°, 30°), under rot90)`` RMS relative asymmetry per softness value."""
    import numpy as np

    from mmsofteq.groups import relative_asymmetry
    from mmsofteq.projection import invariant_projector
    curves = []
    for value in softness:
        projected = kernels @ invariant_projector(group, size, softness=float(value),
                                                  generator=generator).matrix
        curves.append([float(np.sqrt(np.mean(relative_asymmetry(projected, f) ** 2)))
                       for f in (form, quarter)])
    return np.array(curves)


def is_monotone(curve, kept_all) -> bool:
    """Non-increasing as softness falls; strictly below the identity's wherever a direction
    is dropped (under the evaluation's measure, or the quarter turn where that sees nothing)."""
    import numpy as np
    measure, quarter = curve[:, 0], curve[:, 1]
    if np.any(np.diff(measure) < -1e-9):
        return False
    deciding = measure if measure[-1] > 1e-9 else quarter
    return bool(np.all(deciding[~kept_all] < deciding[-1] - 1e-9))


def main(argv=None) -> int:
    args = parse_args(argv)
    import numpy as np

    from mmsofteq.groups import (asymmetry_form, evaluation_measure, exact_asymmetry_form,
                                 parse_group, quarter_turn_form)
    from mmsofteq.projection import invariant_projector
    from mmsofteq.utils import text_table

    measure = evaluation_measure(parse_group('SO2'))
    rng = np.random.default_rng(args.seed)
    kernels = {k: rng.normal(size=(args.count, k * k))
               for k in sorted(set(args.sizes) | set(args.check_sizes))}
    fine = np.linspace(0.0, 1.0, 41)
    columns = ['group', 'generator', 'k'] + [f's={s:g}' for s in args.softness] + [
        'rot90 s=0.8', 'monotone, own μ', 'monotone, U(±30°)']
    rows, curves = [], {}
    for row in args.rows:
        group, generator = row.split(':')
        parsed = parse_group(group)
        failures = {'own': [], 'evaluation': []}
        for k in args.check_sizes:
            kept_all = np.array([invariant_projector(group, k, softness=float(s),
                                                     generator=generator).certificate.kept
                                 == k * k for s in fine])
            exact = exact_asymmetry_form(parsed, k)
            for key, own in (('own', evaluation_measure(parsed)), ('evaluation', measure)):
                forms = (asymmetry_form(k, own),
                         quarter_turn_form(k) if exact is None or key == 'evaluation'
                         else exact)
                curve = asymmetry_curve(group, generator, k, fine, kernels[k], *forms)
                if not is_monotone(curve, kept_all):
                    failures[key].append(k)
        verdicts = [('yes' if not failures[key] else
                     f'no (k = {", ".join(map(str, failures[key]))})')
                    if args.check_sizes else '-' for key in ('own', 'evaluation')]
        for k in args.sizes:
            forms = asymmetry_form(k, measure), quarter_turn_form(k)
            curve = asymmetry_curve(group, generator, k, args.softness, kernels[k], *forms)
            quarter = asymmetry_curve(group, generator, k, [0.8], kernels[k], *forms)[0, 1]
            curves[(row, k)] = curve[:, 0]
            rows.append([group, generator, str(k)] + [f'{100 * v:.0f}%' for v in curve[:, 0]]
                        + [f'{100 * quarter:.0f}%', *verdicts])
            print(f'[asymmetry] {row} k={k} done', flush=True)
    print(f'RMS relative asymmetry of {args.count} Gaussian kernels (seed {args.seed}) under '
          f'{measure.label} (bilinear, inside the grid); rot90: under the exact quarter turn')
    print(text_table(columns, rows, style='markdown' if args.markdown else 'plain'))
    if args.out:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        figure, axes = plt.subplots(1, len(args.sizes), figsize=(4.2 * len(args.sizes), 3.6),
                                    squeeze=False)
        for axis, k in zip(axes[0], args.sizes):
            for row in args.rows:
                axis.plot(args.softness, 100 * curves[(row, k)], marker='o', ms=3, label=row)
            axis.set_title(f'{k}x{k} kernels')
            axis.set_xlabel('softness')
            axis.set_ylabel(f'asymmetry under {measure.label} (%)')
            axis.grid(alpha=0.3)
        axes[0][-1].legend(fontsize=7)
        figure.tight_layout()
        figure.savefig(args.out, dpi=120)
        print(f'[asymmetry] figure: {args.out}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
