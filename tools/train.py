"""Train a segmentor or classifier with mmengine's Runner: mmseg's ``tools/train.py``, plus

* ``import mmsofteq`` first, so the ``mmsofteq`` registry scope exists even when a config
  forgot ``custom_imports``, and ``--resume`` works under torch >= 2.6 (safe allow-list, see
  ``mmsofteq/compat``; ``MMSOFTEQ_TRUST_CHECKPOINTS=1`` opts in to full unpickling);
* CPU-only machines: ``--launcher pytorch`` (``tools/dist_train.sh CONFIG N``) runs N
  processes over gloo, and SyncBN configs run (``mmsofteq.utils.prepare_runtime``).

Examples::

    python tools/train.py CONFIG [--work-dir DIR] [--resume] [--amp] [--cfg-options k=v ...]
    bash tools/dist_train.sh CONFIG 2 [--work-dir DIR] ...
"""
import argparse
import logging
import os
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

    parser = argparse.ArgumentParser(description='Train a model (mmseg / mmpretrain config)')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        action='store_true',
        default=False,
        help='resume from the latest checkpoint in the work_dir automatically')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training (needs a CUDA device)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank, older versions --local_rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args, parser


def build_cfg(args, parser):
    """The config that ``main`` trains with (everything but the device adaptation)."""
    from mmengine.config import Config
    from mmengine.logging import print_log

    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # work_dir is determined in this priority: CLI > segment in file > filename
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        from mmsofteq.utils import cuda_is_usable
        if not cuda_is_usable():
            parser.error('--amp needs a CUDA device: mmengine\'s AmpOptimWrapper does not '
                         'run on CPU')
        optim_wrapper = cfg.optim_wrapper.type
        if optim_wrapper == 'AmpOptimWrapper':
            print_log('AMP training is already enabled in your config.', logger='current',
                      level=logging.WARNING)
        else:
            if optim_wrapper != 'OptimWrapper':
                parser.error('`--amp` is only supported when the optimizer wrapper type is '
                             f'`OptimWrapper` but got {optim_wrapper}.')
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'

    cfg.resume = args.resume
    return cfg


def main(argv=None):
    args, parser = parse_args(argv)
    _import_mmsofteq()
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from mmsofteq.utils import prepare_runtime, shutdown_distributed

    cfg = build_cfg(args, parser)
    prepare_runtime(cfg, args.launcher)

    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    runner.train()
    del runner  # frees the DDP wrapper, so the process group can go now
    shutdown_distributed()


if __name__ == '__main__':
    main()
