"""Config-level helpers the tools and the experiments are built from (the top layer: imports
every other one).

* :mod:`.config`: where a config asks for soft equivariance or rotated evaluation
  (one detector each), the model the Runner would build, the plain config without mmsofteq;
* :mod:`.angle_override`: ``tools/test.py --angles SPEC``;
* :mod:`.cli`: ``--cfg-options`` and config loading shared by every tool;
* :mod:`.equivariance_profile`: where a model breaks rotation equivariance, layer by layer
  (``profile_equivariance``), and a one-line check for tests (``check_equivariance``);
* :mod:`.runs`: crash-safe train-and-test runs (:func:`run_config`: the experiments'
  softness sweep, multi-seed runs and demo stages);
* :mod:`.benchmarking`: side-by-side timing of model variants (imported from its module:
  ``from mmsofteq.apis.benchmarking import interleaved, summarise``).
"""
from .angle_override import apply_angle_override
from .cli import (add_config_arguments, add_launcher_arguments, export_local_rank, load_config,
                  merge_cfg_options, runner_config)
from .config import (HOW_TO_ADD_SOFTEQ, SOFTEQ_PLACES, SoftEqPlace, build_model_from_config,
                     config_dicts,
                     find_softeq, is_rotated_loop_config, is_softeq_hook_cfg, is_softeq_model_cfg,
                     plain_config, plain_model_config, quiet_logging, softeq_of_config, with_softeq)
from .equivariance_profile import (EquivarianceProfile, check_equivariance,
                                   profile_equivariance, suggested_softeq)
from .runs import (TEST_BEST_FILE, RunRecord, StaleRunError, best_checkpoint, check_run_dir,
                   latest_checkpoint, run_config, save_best_keys, write_json,
                   write_test_best)

__all__ = [
    'apply_angle_override', 'add_config_arguments', 'add_launcher_arguments',
    'export_local_rank', 'load_config', 'merge_cfg_options', 'runner_config',
    'HOW_TO_ADD_SOFTEQ', 'SOFTEQ_PLACES', 'SoftEqPlace', 'build_model_from_config', 'config_dicts',
    'find_softeq', 'is_rotated_loop_config', 'is_softeq_hook_cfg', 'is_softeq_model_cfg',
    'plain_config', 'plain_model_config', 'quiet_logging', 'softeq_of_config', 'with_softeq',
    'EquivarianceProfile', 'check_equivariance', 'profile_equivariance', 'suggested_softeq',
    'RunRecord', 'StaleRunError', 'best_checkpoint', 'check_run_dir', 'latest_checkpoint',
    'run_config', 'save_best_keys', 'TEST_BEST_FILE', 'write_json', 'write_test_best'
]
