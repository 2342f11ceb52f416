"""Test (and evaluate) a checkpoint: mmseg's ``tools/test.py``, plus ``import mmsofteq``
(registry scope, safe checkpoint loading), ``--angles SPEC`` (the rotation angles of the
rotated evaluation, ``mmsofteq.apis.apply_angle_override``), ``--worst-of K`` (the opt-in
worst case over ``K`` angles per sample: ``wIoU`` / ``wAcc``) and CPU-only runs
(``prepare_runtime``: gloo for ``--launcher pytorch``, SyncBN -> BN).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR] [--show-dir DIR]
                         [--tta] [--angles SPEC] [--worst-of K] [--cfg-options k=v ...]
    bash tools/dist_test.sh CONFIG CHECKPOINT 2 [--out DIR] ...
"""
import require_mmsofteq  # noqa: F401,I001  (first: the install hint comes before torch loads)
import argparse
import os

from mmengine.runner import Runner

from mmsofteq.apis import (add_config_arguments, add_launcher_arguments, apply_angle_override,
                           export_local_rank, is_rotated_loop_config, runner_config)
from mmsofteq.utils import prepare_runtime, shutdown_distributed


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help=('if specified, the evaluation metric results will be dumped '
              'into the directory as json'))
    parser.add_argument(
        '--out',
        type=str,
        help='The directory to save output prediction for offline evaluation')
    parser.add_argument('--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved. '
        'If specified, it will be automatically saved '
        'to the work_dir/timestamp/show_dir')
    parser.add_argument('--wait-time', type=float, default=2, help='the interval of show (s)')
    add_config_arguments(parser)
    parser.add_argument('--tta', action='store_true', help='Test time augmentation')
    parser.add_argument(
        '--angles',
        type=str,
        default=None,
        help='rotation angles of the rotated evaluation: uniform:LOW,HIGH | list:A,B,... | cN, '
        'optionally @SEED (mmsofteq.apis.apply_angle_override)')
    parser.add_argument(
        '--worst-of', type=int, default=None, metavar='K',
        help='also evaluate each sample at K >= 2 seeded angles and report the worst case '
        '(wIoU / w_aAcc, wAcc); needs the rotated test loop')
    add_launcher_arguments(parser)
    args = parser.parse_args(argv)
    export_local_rank(args)
    return args, parser


def trigger_visualization_hook(cfg, args):
    default_hooks = cfg.default_hooks
    if 'visualization' in default_hooks:
        visualization_hook = default_hooks['visualization']
        # Turn on visualization
        visualization_hook['draw'] = True
        if args.show:
            visualization_hook['show'] = True
            visualization_hook['wait_time'] = args.wait_time
        if args.show_dir:
            visualizer = cfg.visualizer
            visualizer['save_dir'] = args.show_dir
    else:
        raise RuntimeError('VisualizationHook must be included in default_hooks. '
                           'refer to usage '
                           '"visualization=dict(type=\'VisualizationHook\')"')
    return cfg


def build_cfg(args, parser):
    """The config that ``main`` tests with (everything but the device adaptation)."""
    cfg = runner_config(args)
    cfg.load_from = args.checkpoint

    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)

    if args.tta:
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            parser.error('--tta needs `tta_model` and `tta_pipeline` in the config')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model

    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        # mmseg's IoUMetric creates output_dir on rank 0 only; another rank can write its
        # first prediction before that (FileNotFoundError): make it on every rank
        os.makedirs(args.out, exist_ok=True)
        cfg.test_evaluator['keep_results'] = True

    if args.angles is not None:
        apply_angle_override(cfg, args.angles)  # in place; ValueError without a rotated loop
    if args.worst_of is not None:
        if args.worst_of < 2:
            parser.error(f'--worst-of must be an integer >= 2, got {args.worst_of}')
        if not is_rotated_loop_config(cfg.get('test_cfg')):
            parser.error("--worst-of needs the rotated test loop: test_cfg=dict(type="
                         "'mmsofteq.RotatedTestLoop') (configs/_base_/evaluation/rotated.py)")
        cfg.test_cfg.worst_of = args.worst_of
    return cfg


def main(argv=None):
    args, parser = parse_args(argv)
    cfg = build_cfg(args, parser)
    prepare_runtime(cfg, args.launcher)

    runner = Runner.from_cfg(cfg)
    runner.test()
    del runner  # frees the DDP wrapper, so the process group can go now
    shutdown_distributed()


if __name__ == '__main__':
    main()
