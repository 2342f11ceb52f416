"""Softness sweeps and multi-seed runs of any config, each run crash-safe
(``mmsofteq.apis.run_config``), with their tables and trade-off plots."""
