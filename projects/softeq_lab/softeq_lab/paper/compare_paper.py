"""Print multi-seed results next to the paper's cells (paper Tab. 1, 2, 4, 7, 10).

Reads the ``multi_seed.json`` that ``softeq_lab.sweeps.multi_seed`` writes (give its work dir or
the file), finds the paper cells the config runs (:mod:`softeq_lab.paper.cells`) and prints, per
metric, our mean ± std over the seeds, the paper's number and the difference, in the paper's
units (ImageNet iErr: raw nats, our logged value / 100). ``--list`` prints every cell with its
configs instead.

Examples::

    python -m softeq_lab.paper.compare_paper work_dirs/vit_voc_seeds [more dirs ...]
    python -m softeq_lab.paper.compare_paper --list
"""
import argparse
import json
import os.path as osp
import sys
from typing import List, Sequence

from softeq_lab.sweeps.multi_seed import SUMMARY_FILE
from softeq_lab.paper.cells import CELLS, PAPER_NAMES, cells_of_config

COLUMNS = ['cell', 'config', 'metric', 'ours (mean ± std, n)', 'paper', 'ours − paper']


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Print results next to the paper\'s cells')
    parser.add_argument('results', nargs='*', metavar='RESULT',
                        help=f'a softeq_lab.sweeps.multi_seed work dir or its {SUMMARY_FILE}')
    parser.add_argument('--list', action='store_true',
                        help='list every paper cell with the configs that run it')
    args = parser.parse_args(argv)
    if not args.list and not args.results:
        parser.error('give at least one RESULT (or --list)')
    return args


def load_summary(path: str) -> dict:
    """The ``multi_seed.json`` at ``path`` (a file or the work dir holding it)."""
    file = osp.join(path, SUMMARY_FILE) if osp.isdir(path) else path
    if not osp.isfile(file):
        raise SystemExit(f'softeq_lab.paper.compare_paper: no {SUMMARY_FILE} at {path} (run '
                         'softeq_lab.sweeps.multi_seed CONFIG --work-dir DIR first)')
    with open(file, encoding='utf-8') as handle:
        return json.load(handle)


def comparison_rows(summary: dict) -> List[list]:
    """One row per (paper cell of the summary's config, metric)."""
    cells = cells_of_config(summary['config'])
    if not cells:
        raise SystemExit(f'softeq_lab.paper.compare_paper: {summary["config"]} runs no paper cell '
                         '(softeq_lab.paper.compare_paper --list shows the configs that do)')
    name = osp.basename(summary['config'])
    rows = []
    for cell in cells:
        for key, paper, scale in zip(cell.metrics, cell.paper, cell.scale):
            metric = PAPER_NAMES[key]
            if key not in summary['mean']:
                rows.append([cell.name, name, metric, 'missing', f'{paper:.2f}', ''])
                continue
            mean, std = summary['mean'][key] * scale, summary['std'][key] * scale
            rows.append([cell.name, name, metric, f'{mean:.2f} ± {std:.2f} (n={summary["n"]})',
                         f'{paper:.2f}', f'{mean - paper:+.2f}'])
    return rows


def cell_list_rows() -> List[list]:
    return [[cell.name, ', '.join(f'`{path}`' for path in cell.configs),
             ' / '.join(PAPER_NAMES[key] for key in cell.metrics),
             ' / '.join(f'{value:.2f}' for value in cell.paper)] for cell in CELLS]


def main(argv: Sequence[str] = None) -> None:
    from mmsofteq.utils import text_table

    args = parse_args(argv)
    if args.list:
        print(text_table(['cell', 'configs', 'metrics', 'paper'], cell_list_rows(),
                         style='markdown'))
        return
    rows = []
    for path in args.results:
        rows += comparison_rows(load_summary(path))
    print(text_table(COLUMNS, rows, style='markdown'))
    sys.stdout.flush()


if __name__ == '__main__':
    main()
