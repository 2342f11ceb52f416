"""Print which tensors a config projects, and how, without training.

    python tools/print_projection_report.py CONFIG [--verbose] [--cfg-options k=v ...]

Builds the model of ``CONFIG`` on CPU (no weights are loaded) with its soft equivariance
(``mmsofteq.SoftEqModel`` or ``mmsofteq.SoftEqHook``) and prints the projection report: every
projected tensor with its shape, group, softness, kept/total directions, cutoff ``τ``, bound
constant and method, then what was left untouched and why (``--verbose``: every name).
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
    parser.add_argument('--verbose', action='store_true',
                        help='list every untouched tensor, not only the first per reason')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    _import_mmsofteq()
    from mmengine.config import Config
    from mmengine.logging import MMLogger

    from mmsofteq.models import build_model_from_config
    from mmsofteq.nn import softeq_report

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    # The report is printed below; silence the build's INFO log of the same table.
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        model = build_model_from_config(cfg)
    finally:
        logger.setLevel(level)
    print(softeq_report(model).format(verbose=args.verbose))


if __name__ == '__main__':
    main()
