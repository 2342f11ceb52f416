"""Train a segmentor or classifier: mmseg's ``tools/train.py``, plus ``import mmsofteq``
(registry scope, safe checkpoint loading) and CPU-only runs (``prepare_runtime``: gloo for
``--launcher pytorch``, SyncBN -> BN).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [PATH]] [--amp] [--test-best]
                          [--cfg-options k=v ...]
    bash tools/dist_train.sh CONFIG N [--work-dir DIR] ...

``--test-best``: after training, test the checkpoint that the config's
``CheckpointHook(save_best=...)`` kept (the paper configs' selection on the held-out split) and
write its metrics to ``WORK_DIR/test_best.json`` (``python -m softeq_lab.sweeps.multi_seed
--collect`` reads them).
"""
import require_mmsofteq  # noqa: F401,I001  (first: the install hint comes before torch loads)
import argparse
import logging

from mmengine.dist import barrier, is_main_process
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmsofteq.apis import (TEST_BEST_FILE, add_config_arguments, add_launcher_arguments,
                           export_local_rank, runner_config, save_best_keys, write_test_best)
from mmsofteq.utils import cuda_is_usable, prepare_runtime, shutdown_distributed


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model (mmseg / mmpretrain config)')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--resume', nargs='?', const='auto', default=None, metavar='PATH',
                        help='resume: from the latest checkpoint of the work_dir (no PATH) or '
                        'from the checkpoint PATH')
    parser.add_argument('--amp', action='store_true', default=False,
                        help='enable automatic-mixed-precision training (needs a CUDA device)')
    parser.add_argument('--test-best', action='store_true',
                        help="after training, test the best checkpoint the config's "
                        'CheckpointHook(save_best=...) kept (the configs/paper/ protocol) and '
                        f'write its metrics to WORK_DIR/{TEST_BEST_FILE}')
    add_config_arguments(parser)
    add_launcher_arguments(parser)
    args = parser.parse_args(argv)
    export_local_rank(args)
    return args, parser


def build_cfg(args, parser):
    """The config that ``main`` trains with (everything but the device adaptation)."""
    cfg = runner_config(args)
    if args.amp:
        if not cuda_is_usable():
            parser.error("--amp needs a CUDA device: mmengine's AmpOptimWrapper does not run "
                         'on CPU')
        optim_wrapper = cfg.optim_wrapper.type
        if optim_wrapper == 'AmpOptimWrapper':
            print_log('AMP training is already enabled in your config.', logger='current',
                      level=logging.WARNING)
        elif optim_wrapper != 'OptimWrapper':
            parser.error('`--amp` is only supported when the optimizer wrapper type is '
                         f'`OptimWrapper` but got {optim_wrapper}.')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.test_best and not save_best_keys(cfg):
        parser.error('--test-best tests the checkpoint that default_hooks.checkpoint.save_best '
                     "selects, but this config's CheckpointHook has no save_best (add e.g. "
                     "--cfg-options default_hooks.checkpoint.save_best=mIoU)")
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    return cfg


def test_best_checkpoint(runner, keys) -> dict:
    """Load the checkpoint mmengine's ``CheckpointHook`` recorded as best for ``keys[0]``
    (``runtime_info['best_ckpt']``, or ``'best_ckpt_<key>'`` for several keys; every rank
    records it, rank 0 writes it) into the trained runner and run its test loop; returns the
    test metrics."""
    name = 'best_ckpt' if len(keys) == 1 else f'best_ckpt_{keys[0]}'
    path = runner.message_hub.get_info(name)
    if not path:
        raise RuntimeError(f'--test-best: no best checkpoint was saved for {keys[0]!r} (did a '
                           'validation run? train_cfg.val_interval)')
    print_log(f'--test-best: testing {path}', logger='current')
    barrier()  # rank 0 saves it at the end of the last validation: wait for the file
    runner.load_checkpoint(path)
    metrics = runner.test()
    if is_main_process():
        written = write_test_best(runner.work_dir, path, metrics)
        print_log(f'--test-best: metrics written to {written}', logger='current')
    return metrics


def main(argv=None):
    args, parser = parse_args(argv)
    cfg = build_cfg(args, parser)
    prepare_runtime(cfg, args.launcher)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()
    if args.test_best:
        test_best_checkpoint(runner, save_best_keys(cfg))
    del runner  # frees the DDP wrapper, so the process group can go now
    shutdown_distributed()


if __name__ == '__main__':
    main()
