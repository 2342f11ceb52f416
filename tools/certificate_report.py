"""Per projected tensor: the certificate's bound next to the measured invariance error.

    python tools/certificate_report.py CONFIG [--checkpoint CKPT] [--inputs random digits DIR]
        [--count 256] [--angles 30] [--seed 0] [--markdown] [--per-action]

Builds the model of ``CONFIG`` on CPU with its soft equivariance (``mmsofteq.SoftEqModel`` or
``mmsofteq.SoftEqHook``). Weights: ``--checkpoint`` (loaded strictly), else the model's own
random initialisation (``init_weights()`` with ``--seed``; ``Pretrained`` init_cfgs and
``pretrained=`` URLs are dropped, nothing is downloaded). For every projected tensor it prints
the bound ``β`` of the projection report next to the measured relative errors
(``mmsofteq.evaluation.certificate_check``, definitions in docs/math.md §3):

* ``weight e_W = max_s ‖w_s ρ(g) − w_s‖ / (c_g ‖θ_s‖)`` over kernel slices / grid channels;
* ``<source> e_X = max_{s,x} |w_s ρ(g) x − w_s x| / (c_g ‖θ_s‖ ‖x‖)`` over ``--count``
  ``k x k`` inputs ``x`` per source: ``random`` (Gaussian), ``digits`` (crops of real
  handwritten digits) or a directory of images;

``g`` runs over the group's generators (``c_g = 1``) and rotations by ``--angles`` through the
Lie generator (``c_g = |t|``). ``ok`` is ``measured ≤ β`` plus a float-rounding allowance.
Exit status 1 if any tensor fails.
"""
import argparse
import logging
import os.path as osp
import sys


def _import_mmsofteq():
    """Import mmsofteq, from this checkout when it is not installed in the interpreter."""
    try:
        import mmsofteq  # noqa: F401
    except ImportError:
        sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
        import mmsofteq  # noqa: F401


def parse_args(argv=None):
    from mmengine.config import DictAction

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
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
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
    _import_mmsofteq()
    import torch
    from mmengine.config import Config
    from mmengine.logging import MMLogger
    from mmengine.runner import load_checkpoint

    from mmsofteq.evaluation.certificate_check import check_model_certificates, format_checks
    from mmsofteq.evaluation.certificate_inputs import patch_source
    from mmsofteq.models import build_model_from_config

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if not args.checkpoint:
        cfg.model = drop_pretrained(cfg.model.to_dict())
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        torch.manual_seed(args.seed)
        model = build_model_from_config(cfg)
        if args.checkpoint:
            load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True,
                            revise_keys=[(r'^module\.', '')])
        else:
            model.init_weights()
    finally:
        logger.setLevel(level)

    sources = {spec if spec in ('random', 'digits') else osp.basename(osp.normpath(spec)):
               patch_source(spec, args.seed) for spec in args.inputs}
    checks = check_model_certificates(model, sources, args.angles, args.count)
    weights = args.checkpoint or f'random init (seed {args.seed})'
    print(f'certificate check of {args.config} ({type(model).__name__}; weights: {weights}; '
          f'inputs: {", ".join(sources)} x {args.count}; Lie angles: '
          f'{", ".join(f"{a:g}°" for a in args.angles)})')
    print(format_checks(checks, list(sources), markdown=args.markdown))
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
