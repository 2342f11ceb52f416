"""The one CSV writer of the experiments (sweeps, multi-seed runs, the digits experiments), and
the run files the digits experiments write next to it."""
from __future__ import annotations

import csv
import json
import os
import os.path as osp
from typing import Any, Mapping, Optional, Sequence


def write_csv(rows: Sequence[Mapping[str, Any]], path: str,
              columns: Optional[Sequence[str]] = None) -> str:
    """Write ``rows`` (dicts) to ``path`` (folders made); ``columns``: those keys in that order
    (default: every key, in first-seen order; a missing value is written empty). Returns
    ``path``."""
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, 'w', newline='', encoding='utf-8') as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: row.get(key, '') for key in columns})
    return path


def write_run_files(out_dir: str, rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
                    config: Mapping[str, Any]) -> None:
    """``out_dir/runs.csv`` (``rows`` in ``columns``) and ``out_dir/config.json`` (``config``:
    the experiment's settings, wall time and command)."""
    write_csv(rows, osp.join(out_dir, 'runs.csv'), columns)
    with open(osp.join(out_dir, 'config.json'), 'w') as handle:
        json.dump(dict(config), handle, indent=2)
