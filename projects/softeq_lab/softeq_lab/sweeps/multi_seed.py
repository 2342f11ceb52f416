"""Train and test one config over several seeds; write the mean ± std of every test metric.

The paper reports means over 5 seeds. Seed ``S`` sets ``randomness.seed=S`` and the ``seed``
of every ``mmsofteq.SeededSplitDataset`` in the train / val / test loaders (the paper's
protocol splits by the run seed: VOC 90/10, CIFAR 80/20), then runs ``Runner.train()`` and
``Runner.test()`` in ``WORK_DIR/seed_<S>`` as a crash-safe run (``mmsofteq.apis.run_config``):
a config that keeps its best checkpoint (``CheckpointHook(save_best=...)``, the paper configs)
is tested on it. Running the same command again skips finished seeds; ``--resume`` continues
an interrupted training from its latest checkpoint. ``WORK_DIR/multi_seed.json`` (rewritten
after every seed) holds each seed's metrics and the mean / sample standard deviation
(``ddof=1``) over the finished seeds of this config in ``WORK_DIR`` (seeds run by an earlier
command count too); the table is printed and written to ``WORK_DIR/multi_seed.md``. Compare
it with the paper's cell: ``softeq_lab.paper.compare_paper WORK_DIR``. One process,
one device per run.

Multi-GPU runs: train each seed with ``tools/dist_train.sh CONFIG N --work-dir
WORK_DIR/seed_<S> --test-best`` and the seed options (docs/reproduce.md), then ``--collect``
summarises the ``test_best.json`` those runs wrote, without running anything.

Examples::

    python -m softeq_lab.sweeps.multi_seed CONFIG --seeds 0 1 2 3 4 [--work-dir DIR]
        [--resume] [--cfg-options k=v ...]
    python -m softeq_lab.sweeps.multi_seed CONFIG --seeds 0 1 2 3 4 --work-dir DIR --collect
"""
import argparse
import copy
import json
import math
import os
import os.path as osp
import statistics
from typing import Any, Dict, Iterator, List, Sequence

from softeq_lab.sweeps.results import TASK_METRICS, evaluation_task

from mmsofteq.apis import TEST_BEST_FILE, StaleRunError, write_json

SUMMARY_FILE = 'multi_seed.json'
TABLE_FILE = 'multi_seed.md'
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def parse_args(argv=None):
    from mmsofteq.apis import add_config_arguments

    parser = argparse.ArgumentParser(
        description='Train and test a config over several seeds; write mean and std')
    parser.add_argument('config', help='config file (e.g. one of configs/paper/)')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2, 3, 4], metavar='S',
                        help='seeds, each once (default: 0 1 2 3 4, the paper\'s five)')
    parser.add_argument('--work-dir', help='folder of the runs (default: ./work_dirs/<config '
                        'name>_seeds); seed S works in WORK_DIR/seed_<S>')
    parser.add_argument('--resume', action='store_true',
                        help='continue unfinished trainings from their latest checkpoint '
                        '(finished seeds are always skipped)')
    parser.add_argument('--collect', action='store_true',
                        help='run nothing: summarise WORK_DIR/seed_<S>/test_best.json written '
                        'by tools/train.py --test-best (multi-GPU runs)')
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f'--seeds must be distinct, got {args.seeds}')
    if any(seed < 0 for seed in args.seeds):
        parser.error(f'--seeds must be >= 0, got {args.seeds}')
    if args.collect and (args.resume or not args.work_dir):
        parser.error('--collect reads the runs in --work-dir (required) and runs nothing '
                     '(no --resume)')
    return args


def _split_datasets(node: Any) -> Iterator[dict]:
    """Every ``SeededSplitDataset`` dict under ``node``."""
    from mmsofteq.apis import config_dicts
    return (found for found in config_dicts(node)
            if str(found.get('type', '')).split('.')[-1] == 'SeededSplitDataset')


def with_seed(cfg, seed: int):
    """A copy of ``cfg`` whose run seed and data-split seeds are ``seed``; also returns how
    many ``SeededSplitDataset`` seeds were set."""
    cfg = copy.deepcopy(cfg)
    cfg.randomness = dict(cfg.get('randomness', None) or {}, seed=seed)
    splits = 0
    for loader in LOADERS:
        for dataset in _split_datasets(cfg.get(loader, None)):
            dataset['seed'] = seed
            splits += 1
    return cfg, splits


def summarise(per_seed: Dict[int, dict]) -> dict:
    """``mean`` / ``std`` (sample, ``ddof=1``; 0.0 for one seed) of every numeric metric that
    every seed has; ``n`` the number of seeds."""
    keys = set.intersection(*(set(m) for m in per_seed.values())) if per_seed else set()
    mean, std = {}, {}
    for key in sorted(keys):
        values = [per_seed[seed][key] for seed in sorted(per_seed)]
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
            continue
        mean[key] = statistics.fmean(values)
        std[key] = statistics.stdev(values) if len(values) > 1 else 0.0
    return dict(n=len(per_seed), mean=mean, std=std)


def summary_table(summary: dict, metrics: Sequence[str]) -> str:
    """Markdown: one row per metric, mean ± std over the seeds, then each seed's value."""
    from mmsofteq.utils import markdown_header, markdown_row

    seeds = sorted(summary['runs'], key=int)
    lines = [markdown_header(['metric', f'mean ± std (n={summary["n"]})'] +
                             [f'seed {seed}' for seed in seeds])]
    for key in metrics:
        if key not in summary['mean']:
            continue
        lines.append(markdown_row(
            [key, f'{summary["mean"][key]:.2f} ± {summary["std"][key]:.2f}'] +
            [f'{summary["runs"][seed]["metrics"][key]:.2f}' for seed in seeds]))
    return '\n'.join(lines)


def earlier_seeds(cfg, work_dir: str) -> Dict[str, dict]:
    """Finished runs of ``cfg`` in ``work_dir/seed_<S>`` (any seed; a run of another config
    is left out): ``{str(seed): run}``."""
    from mmsofteq.apis import RunRecord
    from mmsofteq.apis.runs import config_fingerprint

    runs = {}
    for name in sorted(os.listdir(work_dir)) if osp.isdir(work_dir) else []:
        if not name.startswith('seed_') or not name[len('seed_'):].isdigit():
            continue
        run_dir = osp.join(work_dir, name)
        record = RunRecord.load(run_dir)
        seed = int(name[len('seed_'):])
        if record is None or record.stage != 'done' or record.seed != seed or \
                record.fingerprint != config_fingerprint(with_seed(cfg, seed)[0]):
            continue
        runs[str(seed)] = dict(metrics=record.metrics, checkpoint=record.checkpoint,
                               run_dir=run_dir)
    return runs


def write_summary(runs: Dict[str, dict], work_dir: str, *, task: str,
                  config_path: str) -> dict:
    """Write ``multi_seed.json`` (and return it) for ``runs``."""
    seeds = sorted(int(seed) for seed in runs)
    summary = dict(config=config_path, task=task, seeds=seeds, runs=runs,
                   **summarise({int(s): r['metrics'] for s, r in runs.items()}))
    write_json(summary, osp.join(work_dir, SUMMARY_FILE))
    return summary


def write_table(summary: dict, work_dir: str) -> str:
    table = summary_table(summary, TASK_METRICS[summary['task']])
    with open(osp.join(work_dir, TABLE_FILE), 'w', encoding='utf-8') as file:
        file.write(f'{summary["config"]}\n\n{table}\n')
    print(table)
    return table


def run_seeds(cfg, seeds: List[int], work_dir: str, *, resume: bool, config_path: str) -> dict:
    """Run every seed (crash-safe) and return the summary written to ``multi_seed.json``:
    these seeds and the finished runs of the same config in ``work_dir`` (earlier commands)."""
    from mmengine.logging import print_log

    from mmsofteq.apis import run_config

    task = evaluation_task(cfg)
    os.makedirs(work_dir, exist_ok=True)
    runs = earlier_seeds(cfg, work_dir)
    summary: dict = {}
    for seed in seeds:
        seed_cfg, splits = with_seed(cfg, seed)
        run_dir = osp.join(work_dir, f'seed_{seed}')
        print_log(f'[multi seed] seed {seed} in {run_dir} (randomness.seed and {splits} '
                  'data-split seed(s) set)', logger='current')
        record, _ = run_config(seed_cfg, run_dir, seed=seed, resume=resume)
        runs[str(seed)] = dict(metrics=record.metrics, checkpoint=record.checkpoint,
                               run_dir=run_dir)
        summary = write_summary(runs, work_dir, task=task, config_path=config_path)
    write_table(summary, work_dir)
    return summary


def collect_seeds(cfg, seeds: List[int], work_dir: str, *, config_path: str) -> dict:
    """The summary of ``work_dir/seed_<S>/test_best.json`` for every seed (written by
    ``tools/train.py --test-best``); ``SystemExit`` naming the seeds that have none."""
    task = evaluation_task(cfg)
    runs, missing = {}, []
    for seed in seeds:
        run_dir = osp.join(work_dir, f'seed_{seed}')
        path = osp.join(run_dir, TEST_BEST_FILE)
        if not osp.isfile(path):
            missing.append(seed)
            continue
        with open(path, encoding='utf-8') as file:
            data = json.load(file)
        runs[str(seed)] = dict(metrics=data['metrics'], checkpoint=data['checkpoint'],
                               run_dir=run_dir)
    if missing:
        raise SystemExit(f'softeq_lab.sweeps.multi_seed --collect: no {TEST_BEST_FILE} for '
                         f'seed(s) {missing} in {work_dir}/seed_<S> (train them with '
                         'tools/train.py or dist_train.sh ... --test-best --work-dir '
                         'WORK_DIR/seed_<S>)')
    summary = write_summary(runs, work_dir, task=task, config_path=config_path)
    write_table(summary, work_dir)
    return summary


def main(argv=None):
    from mmsofteq.apis import load_config

    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    name = osp.splitext(osp.basename(args.config))[0]
    work_dir = args.work_dir or osp.join('work_dirs', f'{name}_seeds')
    try:
        if args.collect:
            collect_seeds(cfg, args.seeds, work_dir, config_path=args.config)
        else:
            run_seeds(cfg, args.seeds, work_dir, resume=args.resume, config_path=args.config)
    except StaleRunError as error:
        raise SystemExit(f'softeq_lab.sweeps.multi_seed: {error}')


if __name__ == '__main__':
    main()
