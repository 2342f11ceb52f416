"""The embedded demo (``make demo``): make the data, train, evaluate rotated, draw a PNG.

    python tools/demo/run_demo.py                    # SegFormer-B0 soft-equivariant, digits
    python tools/demo/run_demo.py --task cls         # ResNet-18 classification variant
    python tools/demo/run_demo.py --max-iters 50     # a shorter run
    python tools/demo/run_demo.py --skip-train --checkpoint work_dirs/demo/.../iter_600.pth

Steps: (1) generate ``data/demo_voc`` (or ``data/demo_digits_cls``) from scikit-learn's real
handwritten digits unless it is already there (``tools/dataset_converters/demo_digits.py``:
never over real data); (2) train ``configs/demo/segformer_softeq_demo.py`` with mmengine's Runner
(as ``tools/train.py``); (3) the config's ``mmsofteq.RotatedValLoop`` evaluates mIoU / aIoU /
cIoU / eErr (Acc / aAcc / cAcc / iErr for ``--task cls``); (4) a PNG of a few val images:
image, ground truth, prediction, rotated image, prediction on it, and the eErr map; (5) print
where the log, checkpoint and PNG are, and the metrics (also written to
``<work_dir>/demo_metrics.json``, with each PNG row's angle and eErr term). See
``docs/demo_data.md``.
"""
import argparse
import json
import math
import os
import os.path as osp
import subprocess
import sys
import time

# Siblings in tools/demo/ (the script's folder is on sys.path when it runs).
from demo_setup import (DEMO_TASKS, MetricsRecorder, latest_log, rescale_schedule, schedule_length,
                        set_data_root)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONVERTER = osp.join(ROOT, 'tools', 'dataset_converters', 'demo_digits.py')


def parse_args(argv=None):
    from mmsofteq.apis import add_config_arguments
    parser = argparse.ArgumentParser(
        description='Train and evaluate the embedded soft-equivariance demo on real '
        'handwritten digits, and draw clean vs rotated predictions.')
    parser.add_argument('--task', choices=('seg', 'cls'), default='seg',
                        help='seg: SegFormer-B0 on data/demo_voc (default); cls: ResNet-18 '
                        'on data/demo_digits_cls')
    parser.add_argument('--config', help='config to train (default: the task\'s demo config)')
    parser.add_argument('--work-dir', help='default: work_dirs/demo/<config name>')
    parser.add_argument('--data-root', help='where the demo data are (made if absent); '
                        'default: data/demo_voc or data/demo_digits_cls')
    parser.add_argument('--num-train', type=int, help='images in the generated train split')
    parser.add_argument('--num-val', type=int, help='images in the generated val split')
    parser.add_argument('--max-iters', type=int,
                        help='train this many iterations (seg), schedule rescaled')
    parser.add_argument('--max-epochs', type=int,
                        help='train this many epochs (cls), schedule rescaled')
    parser.add_argument('--skip-train', action='store_true',
                        help='only evaluate and draw, with --checkpoint')
    parser.add_argument('--checkpoint', help='checkpoint to evaluate (with --skip-train)')
    parser.add_argument('--num-images', type=int, default=4, help='rows of the PNG')
    parser.add_argument('--out', help='PNG path (default: <work_dir>/demo_predictions.png)')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch CPU threads of the main process (default 1: on 2 shared '
                        'cores 2 threads ran 5-20x slower per iteration than 1)')
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    _check_args(args, parser)
    return args


def _check_args(args, parser) -> None:
    task = DEMO_TASKS[args.task]
    if args.config is None:
        args.config = osp.join(ROOT, task.config)
    if args.skip_train and not args.checkpoint:
        parser.error('--skip-train needs --checkpoint CKPT')
    if args.checkpoint and not args.skip_train:
        parser.error('--checkpoint is only used with --skip-train')
    wrong_unit = ('--max-epochs', 'iters') if args.max_epochs is not None else \
        ('--max-iters', 'epochs') if args.max_iters is not None else None
    if wrong_unit and task.schedule_unit == wrong_unit[1]:
        parser.error(f'{wrong_unit[0]} does not apply to --task {args.task} (its schedule '
                     f'counts {task.schedule_unit})')
    for name in ('num_train', 'num_val', 'max_iters', 'max_epochs', 'num_images', 'threads'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, got {value}')
    if args.skip_train and (args.max_iters or args.max_epochs):
        parser.error('--max-iters / --max-epochs make no sense with --skip-train')
    if args.data_root is None:
        args.data_root = osp.join(ROOT, task.data_root)
    if args.work_dir is None:
        stem = osp.splitext(osp.basename(args.config))[0]
        args.work_dir = osp.join(ROOT, 'work_dirs', 'demo', stem)
    args.work_dir = osp.abspath(args.work_dir)
    if args.out is None:
        args.out = osp.join(args.work_dir, 'demo_predictions.png')


def check_paths(args) -> None:
    """Files named on the command line must exist (checked before any work is done)."""
    for what, path in (('config', args.config), ('checkpoint', args.checkpoint)):
        if path is not None and not osp.isfile(path):
            raise SystemExit(f'error: {what} not found: {path}')


def make_data(args) -> None:
    """Generate the demo set at ``args.data_root`` unless it is already there (the dataset
    converter does nothing for an intact set made with the same arguments)."""
    command = [sys.executable, CONVERTER] + DEMO_TASKS[args.task].converter_args(
        args.data_root, args.num_train, args.num_val)
    start = time.time()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f'error: cannot make the demo data: {done.stderr.strip()}')
    print(f'[demo] data {done.stdout.strip()} ({time.time() - start:.1f} s)', flush=True)


def build_cfg(args):
    from mmsofteq.apis import load_config, merge_cfg_options

    cfg = load_config(args.config)
    set_data_root(cfg, args.data_root)
    length = args.max_iters or args.max_epochs
    if length:
        rescale_schedule(cfg, length)
    merge_cfg_options(cfg, args.cfg_options)  # after the demo's own edits
    cfg.work_dir = args.work_dir
    cfg.launcher = 'none'
    cfg.resume = False
    if args.skip_train:
        cfg.load_from = osp.abspath(args.checkpoint)
    return cfg


def draw(runner, args):
    """Collect clean/rotated predictions of the first val images and save the PNG; returns
    the PNG path and one dict per row (image name, angle, its eErr / iErr term)."""
    from rotated_examples import (collect_rotated_examples, draw_classification_examples,
                                  draw_segmentation_examples)

    from mmsofteq.engine.runner import RotatedValLoop
    loop = runner.val_loop
    if not isinstance(loop, RotatedValLoop):
        raise SystemExit(f'error: the config\'s val_cfg must be mmsofteq.RotatedValLoop to draw '
                         f'rotated predictions, got {type(loop).__name__}')
    examples = collect_rotated_examples(runner.model, loop.dataloader, loop.rotated_predictions,
                                        args.num_images)
    metainfo = loop.dataloader.dataset.metainfo
    title = f'{osp.basename(args.config)}: val images, clean vs rotated'
    if args.task == 'seg':
        png = draw_segmentation_examples(examples, metainfo['palette'], args.out, title,
                                         metainfo['classes'])
        rows = [dict(image=e.name, angle=e.angle, eErr=e.eerr) for e in examples]
    else:
        png = draw_classification_examples(examples, metainfo['classes'], args.out, title)
        rows = [dict(image=e.name, angle=e.angle, iErr=e.kl) for e in examples]
    return png, rows


def main(argv=None) -> int:
    start = time.time()
    args = parse_args(argv)
    check_paths(args)
    make_data(args)

    import torch
    from mmengine.runner import Runner, find_latest_checkpoint

    from mmsofteq.utils import prepare_runtime
    torch.set_num_threads(args.threads)
    cfg = build_cfg(args)
    prepare_runtime(cfg, 'none')
    runner = Runner.from_cfg(cfg)
    recorder = MetricsRecorder()
    runner.register_hook(recorder)
    if args.skip_train:
        metrics = runner.val()
        checkpoint = osp.abspath(args.checkpoint)
    else:
        print(f'[demo] training {osp.basename(args.config)} for {schedule_length(cfg)} '
              f'{"iterations" if "max_iters" in cfg.train_cfg else "epochs"} in '
              f'{args.work_dir}', flush=True)
        runner.train()
        metrics = recorder.metrics if recorder.metrics is not None else runner.val()
        checkpoint = find_latest_checkpoint(args.work_dir)
    png, rows = draw(runner, args)
    metrics = {key: float(value) for key, value in metrics.items()}
    metrics_path = osp.join(args.work_dir, 'demo_metrics.json')
    os.makedirs(args.work_dir, exist_ok=True)
    with open(metrics_path, 'w', encoding='utf-8') as file:
        json.dump(dict(metrics=metrics, figure=dict(path=png, rows=rows)), file, indent=2)

    print('\n[demo] done in {:.0f} s'.format(time.time() - start))
    print(f'[demo] log:        {latest_log(runner)}')
    print(f'[demo] checkpoint: {checkpoint}')
    print(f'[demo] figure:     {png}')
    print(f'[demo] metrics:    {metrics_path}')
    print('[demo] rotated evaluation (x100; rotations U(-30°, 30°), seeded per image):')
    for key, value in metrics.items():
        print(f'[demo]   {key:<18} {value:.2f}')
    if not all(math.isfinite(value) for value in metrics.values()):
        print('[demo] error: some metrics are not finite numbers', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
