"""Train and evaluate one config at several softness values; write a CSV and a trade-off plot.

Each softness ``s`` is a full ``tools/train.py`` run (mmengine ``Runner.train()``) followed by
``Runner.test()`` with the config's rotated evaluation, in ``WORK_DIR/softness_<s>``. The CSV
(one row per softness: mIoU/aIoU/cIoU/eErr or Acc/aAcc/cAcc/iErr, the other metrics, the
projection counts) and the plot (mIoU and aIoU vs eErr, or Acc and aAcc vs iErr) go to
``WORK_DIR/softness_sweep.{csv,png}``. Finished runs are never computed twice: run the same
command again after a crash (add ``--resume`` to continue an interrupted training from its
latest checkpoint). Logic: the ``sweep_*.py`` modules next to this script; docs:
docs/evaluation.md ("Softness sweep").

Examples::

    python -m softeq_lab.sweeps.softness_sweep CONFIG --softness 0 0.5 0.9 1 [--work-dir DIR]
        [--kinds pos_embed] [--skip-train] [--checkpoint CKPT] [--resume]
        [--cfg-options k=v ...]
"""
import argparse
import os.path as osp

from softeq_lab.sweeps.plan import plan_sweep, run_sweep

from mmsofteq.apis import StaleRunError


def parse_args(argv=None):
    from mmsofteq.apis import add_config_arguments

    parser = argparse.ArgumentParser(
        description='Train and evaluate a soft-equivariant config at several softness values')
    parser.add_argument('config', help='config file with softeq (SoftEqModel or SoftEqHook)')
    parser.add_argument('--softness', nargs='+', required=True, metavar='S',
                        help='softness values in [0, 1], each once (0 = strictly equivariant, '
                        '1 = the unchanged model)')
    parser.add_argument('--kinds', nargs='+', metavar='KIND',
                        help='sweep only these softness kinds (patch_embed, pos_embed, conv); '
                        'the others keep the config\'s value. Default: every kind gets S')
    parser.add_argument('--work-dir', help='sweep folder (default: the config\'s work_dir, '
                        'else ./work_dirs/<config name>_softness_sweep); run S works in '
                        'WORK_DIR/softness_<S>')
    parser.add_argument('--skip-train', action='store_true',
                        help='no training: evaluate the starting weights (--checkpoint / '
                        'load_from, else the model\'s init_cfg) projected at each softness')
    parser.add_argument('--checkpoint', help='set load_from: the weights every run starts from '
                        '(with --skip-train, the weights evaluated)')
    parser.add_argument('--resume', action='store_true',
                        help='continue unfinished training runs from their latest checkpoint '
                        '(finished runs are always skipped)')
    add_config_arguments(parser)
    return parser.parse_args(argv), parser


def build_cfg(args):
    """The config every run starts from (before its softness is put in)."""
    from mmsofteq.apis import load_config

    cfg = load_config(args.config, args.cfg_options)
    if args.checkpoint is not None:
        cfg.load_from = args.checkpoint
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        name = osp.splitext(osp.basename(args.config))[0]
        cfg.work_dir = osp.join('./work_dirs', f'{name}_softness_sweep')
    return cfg


def main(argv=None):
    args, parser = parse_args(argv)
    cfg = build_cfg(args)
    try:  # every check that needs no training, before the first run
        plan_sweep(cfg, args.softness, cfg.work_dir, args.kinds)
    except ValueError as error:
        parser.error(str(error))
    try:
        result = run_sweep(cfg, args.softness, cfg.work_dir, kinds=args.kinds,
                           train=not args.skip_train, resume=args.resume)
    except StaleRunError as error:
        parser.error(str(error))
    skipped = len(result.rows) - len(result.ran)
    print(f'softness sweep: {len(result.ran)} run(s) computed, {skipped} read from earlier '
          f'runs; runs in {osp.abspath(cfg.work_dir)}/softness_<s>')
    print(f'CSV: {osp.abspath(result.csv_path)}')
    print(f'plot: {osp.abspath(result.plot_path)}')
    return result


if __name__ == '__main__':
    main()
