"""Where the experiments find the checkout they belong to (an editable install: this package
lives in ``<checkout>/projects/softeq_lab/softeq_lab``)."""
import os.path as osp

#: the repository checkout: ``configs/``, ``data/``, ``work_dirs/`` and ``docs/`` are below it
REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
