"""The embedded demo (``make demo``): Base vs soft-equivariant twins on real handwritten digits.

    python -m softeq_lab.demo.run_demo                      # segmentation twins (default)
    python -m softeq_lab.demo.run_demo --softness 0.5       # another softness for the SoftEq twin
    python -m softeq_lab.demo.run_demo --pretrain-iters 2000 --finetune-iters 400   # longer
    python -m softeq_lab.demo.run_demo --task cls           # classification variant (one model)

Segmentation (``--task seg``), the method's setting in miniature -- adapt a *pretrained* model:

1. make ``data/demo_voc`` (33 px canvases, one digit each, 2,000 train / 1,000 val) from
   scikit-learn's real digit scans unless it is there (``softeq_lab.digits``);
2. **pretrain** ``configs/demo/segformer_pretrain_demo.py`` (plain SegFormer, upright
   images): the common starting weights;
3. fine-tune its two twins from that checkpoint with the same data (no rotation
   augmentation), schedule and seed: ``segformer_base_demo.py`` (Base) and
   ``segformer_softeq_demo.py`` (SoftEq: the same model with ``W = P·θ``);
4. evaluate each stage with the configs' ``mmsofteq.RotatedTestLoop`` (mIoU / aIoU / cIoU /
   eErr, every val image once upright and once rotated by its seeded angle);
5. print one side-by-side table, write it to ``<work_dir>/demo_results.{json,md}``, and draw
   ``demo_predictions.png``: for the same val images, one row per twin (image, ground
   truth, prediction, rotated image, prediction on it, eErr map).

Every stage is a crash-safe run (``mmsofteq.apis.run_config``): running the command
again reuses finished stages of the same config (``--retrain`` starts over) and continues an
interrupted one from its latest checkpoint. ``--task cls`` trains one soft-equivariant
ResNet-18 from scratch on the classification set (no twin). See ``docs/demo_data.md``.
"""
import argparse
import json
import math
import os
import os.path as osp
import shutil
import subprocess
import sys
import time

from softeq_lab.demo.runs import (DEMO_TASKS, PER_IMAGE_FILE, difference_row, paired_differences,
                                  rescale_schedule, schedule_length, set_data_root, stage_table)
from softeq_lab.paths import REPO_ROOT


def parse_args(argv=None):
    from mmsofteq.apis import add_config_arguments
    parser = argparse.ArgumentParser(
        description='Train Base and soft-equivariant twins on the embedded digits demo and '
        'compare them on clean and rotated images.')
    parser.add_argument('--task', choices=sorted(DEMO_TASKS), default='seg',
                        help='seg: SegFormer twins on data/demo_voc (default); cls: one '
                        'soft-equivariant ResNet-18 on data/demo_digits_cls')
    parser.add_argument('--work-dir', help='default: work_dirs/demo/<task>')
    parser.add_argument('--data-root', help='where the demo data are (made if absent); '
                        'default: data/demo_voc or data/demo_digits_cls')
    parser.add_argument('--num-train', type=int, help='images in the generated train split')
    parser.add_argument('--num-val', type=int, help='images in the generated val split')
    parser.add_argument('--pretrain-iters', type=int,
                        help='seg: pretraining iterations (default: the config\'s 1,100)')
    parser.add_argument('--finetune-iters', type=int,
                        help='seg: fine-tuning iterations of each twin (default: 200)')
    parser.add_argument('--max-epochs', type=int, help='cls: training epochs (default: 3)')
    parser.add_argument('--softness', type=float,
                        help='seg: softness of the SoftEq twin (default: its config\'s)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seg: seed of both fine-tunings (the pretraining keeps its own); '
                        'docs/demo_data.md has the table over seeds 0-2')
    parser.add_argument('--retrain', action='store_true',
                        help='run every stage again, even if finished earlier')
    parser.add_argument('--num-images', type=int, default=4, help='val images in the PNG')
    parser.add_argument('--out', help='PNG path (default: <work_dir>/demo_predictions.png)')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch CPU threads (default 1; see docs/demo_data.md)')
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    _check_args(args, parser)
    return args


def _check_args(args, parser) -> None:
    task = DEMO_TASKS[args.task]
    for option, unit in (('pretrain_iters', 'iters'), ('finetune_iters', 'iters'),
                         ('softness', 'iters'), ('max_epochs', 'epochs')):
        if getattr(args, option) is not None and task.schedule_unit != unit:
            parser.error(f'--{option.replace("_", "-")} does not apply to --task {args.task}')
    for name in ('num_train', 'num_val', 'pretrain_iters', 'finetune_iters', 'max_epochs',
                 'num_images', 'threads'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, got {value}')
    if args.softness is not None and not 0.0 <= args.softness <= 1.0:
        parser.error(f'--softness must be in [0, 1], got {args.softness}')
    if args.data_root is None:
        args.data_root = osp.join(REPO_ROOT, task.data_root)
    if args.work_dir is None:
        args.work_dir = osp.join(REPO_ROOT, 'work_dirs', 'demo', args.task)
    args.work_dir = osp.abspath(args.work_dir)
    if args.out is None:
        args.out = osp.join(args.work_dir, 'demo_predictions.png')


def make_data(args) -> None:
    """Generate the demo set at ``args.data_root`` unless it is already there (the dataset
    converter does nothing for an intact set made with the same arguments)."""
    command = [sys.executable, '-m', 'softeq_lab.digits.make_demo_data'] + \
        DEMO_TASKS[args.task].converter_args(args.data_root, args.num_train, args.num_val)
    start = time.time()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f'error: cannot make the demo data: {done.stderr.strip()}')
    print(f'[demo] data {done.stdout.strip()} ({time.time() - start:.1f} s)', flush=True)


def stage_cfg(args, stage, load_from=None, validate=False):
    """The config of one stage, edited for this run (data root, schedule, softness, seed).

    Training runs skip the validation at their last iteration (``validate=False``): the test
    that follows evaluates the same weights on the same images. The twins' rotated metric
    writes every image's record (``per_image.json`` in the stage folder) for the paired
    comparison.
    """
    from mmsofteq.apis import load_config, merge_cfg_options

    cfg = load_config(osp.join(REPO_ROOT, stage.config))
    set_data_root(cfg, args.data_root)
    length = getattr(args, stage.length_option) if stage.length_option else None
    if length:
        rescale_schedule(cfg, length)
    if stage.name == 'softeq' and args.softness is not None:
        merge_cfg_options(cfg, {'softeq.softness': args.softness})
    if stage.start_from is not None and args.task == 'seg':
        cfg.randomness = dict(cfg.get('randomness') or {}, seed=args.seed)
    work_dir = osp.join(args.work_dir, stage.name)
    if stage.compared and args.task == 'seg':
        cfg.test_cfg.rotated_metric = dict(type='mmsofteq.RotatedIoUMetric',
                                           clean_metrics=False,
                                           per_image_file=osp.join(work_dir, PER_IMAGE_FILE))
    if not validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    merge_cfg_options(cfg, args.cfg_options)  # after the demo's own edits
    if load_from is not None:
        cfg.load_from = load_from
    cfg.work_dir = work_dir
    return cfg


def run_stages(args):
    """Train and test every stage in order; returns ``{stage name: RunRecord}``."""
    from mmsofteq.apis import StaleRunError, check_run_dir, run_config, softeq_of_config

    records = {}
    for stage in DEMO_TASKS[args.task].stages:
        start = time.time()
        load_from = records[stage.start_from].checkpoint if stage.start_from else None
        cfg = stage_cfg(args, stage, load_from)
        run_dir = cfg.work_dir
        if args.retrain and osp.isdir(run_dir):
            shutil.rmtree(run_dir)
        softeq = softeq_of_config(cfg)[0] if stage.name == 'softeq' else None
        softness = 1.0 if softeq is None else _scalar_softness(softeq['softness'])
        print(f'[demo] {stage.name}: {osp.basename(stage.config)}, '
              f'{schedule_length(cfg)} {DEMO_TASKS[args.task].schedule_unit}'
              + (f' from {osp.relpath(load_from, args.work_dir)}' if load_from else '')
              + f' -> {run_dir}', flush=True)
        try:
            check_run_dir(cfg, run_dir, softness, 'train')
        except StaleRunError:  # e.g. another --softness: this stage starts over
            print(f'[demo] {stage.name}: {run_dir} holds a run of another configuration; '
                  'starting this stage over', flush=True)
            shutil.rmtree(run_dir)
        record, ran = run_config(cfg, run_dir, softness=softness, resume=True)
        print(f'[demo] {stage.name}: {"done" if ran else "reused"} in '
              f'{time.time() - start:.0f} s', flush=True)
        records[stage.name] = record
    return records


def _scalar_softness(softness):
    return float(softness) if not isinstance(softness, dict) else None


def draw(args, records):
    """The PNG: for the first val images, one row per compared stage. Returns
    ``(path, rows)`` with each row's stage, image, angle and eErr / iErr term."""
    from mmengine.runner import Runner
    from softeq_lab.demo.rotated_examples import (collect_rotated_examples,
                                                  draw_classification_examples,
                                                  draw_segmentation_examples)

    from mmsofteq.engine.runner import RotatedValLoop
    from mmsofteq.utils import prepare_runtime

    task = DEMO_TASKS[args.task]
    examples, labels, metainfo = [], [], None
    for stage in [s for s in task.stages if s.compared]:
        cfg = stage_cfg(args, stage, records[stage.name].checkpoint, validate=True)
        cfg.work_dir = osp.join(cfg.work_dir, 'figure')
        cfg.experiment_name = f'demo_figure_{stage.name}'
        cfg.resume = False
        prepare_runtime(cfg, 'none')
        runner = Runner.from_cfg(cfg)
        runner.load_or_resume()
        loop = runner.val_loop
        if not isinstance(loop, RotatedValLoop):
            raise SystemExit('error: the demo configs\' val_cfg must be mmsofteq.RotatedValLoop '
                             f'to draw rotated predictions, got {type(loop).__name__}')
        examples.append(collect_rotated_examples(runner.model, loop.dataloader,
                                                 loop.rotated_predictions, args.num_images))
        labels.append(stage.label(records[stage.name]))
        metainfo = loop.dataloader.dataset.metainfo
    # interleave: image 0 of every stage, then image 1, ...
    rows = [(label, example) for group in zip(*examples)
            for label, example in zip(labels, group)]
    title = 'val images: clean vs rotated, ' + ' vs '.join(labels)
    if args.task == 'seg':
        png = draw_segmentation_examples([e for _, e in rows], metainfo['palette'], args.out,
                                         title, metainfo['classes'],
                                         row_labels=[label for label, _ in rows])
        key = 'eErr'
    else:
        png = draw_classification_examples([e for _, e in rows], metainfo['classes'],
                                           args.out, title)
        key = 'iErr'
    return png, [dict(stage=label, image=e.name, angle=e.angle,
                      **{key: e.eerr if key == 'eErr' else e.kl}) for label, e in rows]


def main(argv=None) -> int:
    start = time.time()
    args = parse_args(argv)
    make_data(args)

    import torch
    torch.set_num_threads(args.threads)
    records = run_stages(args)
    png, figure_rows = draw(args, records)

    task = DEMO_TASKS[args.task]
    columns, rows = stage_table(task, records)
    differences = None
    if args.task == 'seg':
        differences = paired_differences(
            *(osp.join(args.work_dir, name, PER_IMAGE_FILE) for name in ('base', 'softeq')))
        rows.append(difference_row(task, differences))
    results = dict(columns=columns, rows=rows, figure=dict(path=png, rows=figure_rows),
                   differences=differences, seed=args.seed,
                   stages={name: dict(checkpoint=record.checkpoint, metrics=record.metrics,
                                      projection=record.projection)
                           for name, record in records.items()},
                   seconds=round(time.time() - start, 1), threads=args.threads)
    os.makedirs(args.work_dir, exist_ok=True)
    json_path = osp.join(args.work_dir, 'demo_results.json')
    with open(json_path, 'w', encoding='utf-8') as file:
        json.dump(results, file, indent=2)
    from mmsofteq.utils import text_table
    md_path = osp.join(args.work_dir, 'demo_results.md')
    with open(md_path, 'w', encoding='utf-8') as file:
        file.write(text_table(columns, rows, style='markdown') + '\n')

    print(f'\n[demo] done in {time.time() - start:.0f} s ({args.threads} torch thread(s))')
    print(f'[demo] work dir:   {args.work_dir}  (a folder per stage: logs, checkpoints)')
    for name, record in records.items():
        print(f'[demo] checkpoint: {name}: {record.checkpoint}')
    print(f'[demo] figure:     {png}')
    print(f'[demo] results:    {json_path}, {md_path}')
    print(f'[demo] {task.metric_note}')
    for line in text_table(columns, rows).splitlines():
        print(f'[demo] {line}')
    values = [value for record in records.values() for value in record.metrics.values()]
    if not all(math.isfinite(value) for value in values):
        print('[demo] error: some metrics are not finite numbers', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
