"""Per projected tensor: the certificate's bound next to the measured invariance error.

    python -m softeq_lab.certificates.certificate_report CONFIG [--checkpoint CKPT]
        [--inputs random digits DIR] [--count 256] [--angles 30] [--seed 0] [--markdown]
        [--per-action]

Builds the model of ``CONFIG`` on CPU with its soft equivariance (``mmsofteq.SoftEqModel`` or
``mmsofteq.SoftEqHook``). Weights: ``--checkpoint`` (loaded strictly), else the model's own
random initialisation (``init_weights()`` with ``--seed``; ``Pretrained`` init_cfgs and
``pretrained=`` URLs are dropped, nothing is downloaded). For every projected tensor it prints
the bound ``β`` of the projection report next to the measured relative errors
(:mod:`softeq_lab.certificates.check`, definitions in docs/math.md §3):

* ``weight e_W = max_s ‖w_s ρ(g) − w_s‖ / (c_g ‖θ_s‖)`` over kernel slices / grid channels;
* ``<source> e_X = max_{s,x} |w_s ρ(g) x − w_s x| / (c_g ‖θ_s‖ ‖x‖)`` over ``--count``
  ``k x k`` inputs ``x`` per source: ``random`` (Gaussian), ``digits`` (crops of real
  handwritten digits) or a directory of images;

``g`` runs over the group's generators (``c_g = 1``) and rotations by ``--angles`` through the
Lie generator (``c_g = |t|``); for ``generator='resampled'`` (the default) ``e_W`` is the
root-mean-square asymmetry under the evaluation's rotations (``mmsofteq.utils.rotate_field``)
and the exact quarter turn / reflections are checked against ``exact_bound``. The
``asymmetry`` column is each tensor's relative asymmetry under those rotations, of ``θ`` and of
the projected weight. ``ok`` is ``measured ≤ β`` plus a float-rounding allowance.
Exit status 1 if any tensor fails.
"""
import argparse
import os.path as osp
import sys

from softeq_lab.certificates.check import check_model_certificates, format_checks
from softeq_lab.certificates.inputs import patch_source


def parse_args(argv=None):
    from mmsofteq.apis import add_config_arguments

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config with SoftEqModel or SoftEqHook')
    parser.add_argument('--checkpoint', help='weights to check (default: random init)')
    parser.add_argument('--inputs', nargs='+', default=['random', 'digits'],
                        help="input sources: 'random', 'digits' or image directories")
    parser.add_argument('--count', type=int, default=256, help='inputs per source and tensor')
    parser.add_argument('--angles', nargs='+', type=float, default=[30.0],
                        help='rotation angles (degrees) for the Lie generator')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--markdown', action='store_true', help='print a markdown table')
    parser.add_argument('--per-action', action='store_true',
                        help='also print the errors per group element')
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error(f'--count must be >= 1, got {args.count}')
    for spec in args.inputs:
        if spec not in ('random', 'digits') and not osp.isdir(spec):
            parser.error(f"--inputs takes 'random', 'digits' or an image directory; {spec!r} "
                         'is none of them')
    if any(angle == 0 or angle != angle for angle in args.angles):
        parser.error(f'--angles must be non-zero numbers (the bound scales with |angle|), got '
                     f'{args.angles}')
    return args


def drop_pretrained(node):
    """``node`` (a config dict / list) without ``Pretrained`` init_cfgs and ``pretrained=``."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == 'init_cfg' and _is_pretrained(value):
                continue
            if key == 'pretrained' and isinstance(value, str):
                value = None
            out[key] = drop_pretrained(value)
        return out
    if isinstance(node, (list, tuple)):
        return type(node)(drop_pretrained(value) for value in node)
    return node


def _is_pretrained(init_cfg) -> bool:
    if isinstance(init_cfg, dict):
        return init_cfg.get('type') == 'Pretrained'
    if isinstance(init_cfg, (list, tuple)):
        return any(_is_pretrained(item) for item in init_cfg)
    return False


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch
    from mmengine.runner import load_checkpoint

    from mmsofteq.apis import build_model_from_config, load_config, quiet_logging
    from mmsofteq.nn import softeq_report
    from mmsofteq.nn.report import BOUND_MEANING

    cfg = load_config(args.config, args.cfg_options)
    if not args.checkpoint:
        cfg.model = drop_pretrained(cfg.model.to_dict())
    torch.manual_seed(args.seed)
    with quiet_logging():
        model = build_model_from_config(cfg)
        if args.checkpoint:
            load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True,
                            revise_keys=[(r'^module\.', '')])
        else:
            model.init_weights()

    sources = {spec if spec in ('random', 'digits') else osp.basename(osp.normpath(spec)):
               patch_source(spec, args.seed) for spec in args.inputs}
    checks = check_model_certificates(model, sources, args.angles, args.count)
    weights = args.checkpoint or f'random init (seed {args.seed})'
    print(f'certificate check of {args.config} ({type(model).__name__}; weights: {weights}; '
          f'inputs: {", ".join(sources)} x {args.count}; Lie angles: '
          f'{", ".join(f"{a:g}°" for a in args.angles)})')
    print(format_checks(checks, list(sources), markdown=args.markdown))
    report = softeq_report(model)
    if report.measure:
        print(f'asymmetry: of θ → of W, sqrt(Σ_s E_T ‖V_T (T − I) w_s‖² / Σ_s ‖w_s‖²), T ∼ '
              f'{report.measure} (the rotated evaluation\'s bilinear resampling)')
    if report.generator in BOUND_MEANING:
        print('bound: ' + BOUND_MEANING[report.generator].format(measure=report.measure))
    if args.per_action:
        for check in checks:
            for label, errors in check.per_action.items():
                values = ', '.join(f'{key} {value:.4g}' for key, value in errors.items())
                print(f'  {check.name} [{label}]: {values}')
    failed = [check.name for check in checks if not check.passed]
    print(f'{len(checks)} projected tensor(s); measured <= bound for '
          f'{len(checks) - len(failed)}' + (f'; FAILED: {", ".join(failed)}' if failed else ''))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
