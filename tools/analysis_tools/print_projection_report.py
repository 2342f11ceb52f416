"""Print which tensors a config projects, and how, without training.

    python tools/analysis_tools/print_projection_report.py CONFIG [--verbose]
        [--cfg-options k=v ...]

Builds the model of ``CONFIG`` on CPU (no weights are loaded) with its soft equivariance
(``mmsofteq.SoftEqModel`` or ``mmsofteq.SoftEqHook``) and prints the projection report: every
projected tensor with its shape, group, softness, kept/total directions, cutoff ``τ``, bound
constant and method, then what was left untouched and why (``--verbose``: every name).
"""
import argparse


def parse_args(argv=None):
    from mmsofteq.apis import add_config_arguments

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config with SoftEqModel or SoftEqHook')
    parser.add_argument('--verbose', action='store_true',
                        help='list every untouched tensor, not only the first per reason')
    add_config_arguments(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmsofteq.apis import build_model_from_config, load_config
    from mmsofteq.nn import softeq_report

    cfg = load_config(args.config, args.cfg_options)
    # The report is printed below; quiet=True silences the build's INFO log of the same table.
    model = build_model_from_config(cfg, quiet=True)
    print(softeq_report(model).format(verbose=args.verbose))


if __name__ == '__main__':
    main()
