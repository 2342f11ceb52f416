"""softeq_lab: the experiments behind mmsofteq's results (a project beside the plugin).

Each command is a module run with ``python -m softeq_lab.<package>.<module>`` (README.md):

* :mod:`.digits`: the embedded demo data (rendered digit scans, VOC and class-folder layouts);
* :mod:`.demo`: ``make demo`` (pretrain, fine-tune Base and SoftEq twins, rotated evaluation);
* :mod:`.sweeps`: softness sweeps and multi-seed runs of any config (crash-safe runs of
  ``mmsofteq.apis``), their tables and plots;
* :mod:`.paper`: the paper's table cells, comparison with the paper, the strict C4 check;
* :mod:`.tunability`: the digits tunability experiment and its baselines;
* :mod:`.certificates`: measured per-layer error against the projection report's bound;
* :mod:`.filters`: projected filter kernels drawn from a checkpoint.

Importing it first checks that mmsofteq is installed, so every command says how to install it
instead of failing deep inside an import.
"""
try:
    import mmsofteq  # noqa: F401
except ImportError as error:
    raise SystemExit(f'{error}: install mmsofteq first (make env, or pip install -e .)')
