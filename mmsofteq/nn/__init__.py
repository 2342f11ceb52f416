"""Injection of soft-equivariance projections into built models.

``config`` (the ``softeq`` dict) → ``rules`` (which tensors of which backbone) → ``injection``
(projectors, decisions, report) → ``reparam`` (``W_eff = P·θ`` on the module's own Parameter,
``P`` applied as its ``projections`` object says) → ``export`` (``P·θ`` written back, base
classes restored).
"""
from . import checkpoint_guard
from .asymmetry import measure_asymmetry
from .config import CONFIG_KEYS, DEFAULT_KIND, SoftEqConfig
from .export import export_model
from .injection import inject_soft_equivariance, softeq_config, softeq_report
from .projections import GridProjection, KernelProjection, OffsetGridProjection
from .reparam import (BUFFER_PREFIX, is_swapped, project_parameter, projected_parameters,
                      raw_parameters)
from .report import ProjectedTensor, ProjectionReport, UntouchedTensor
from .sampling_grids import GridOffset, grid_offset, off_centre_layers
from .rules import BUILTIN_RULES, KINDS, TARGETS, Rule, register_rules, rules_for

__all__ = [
    'checkpoint_guard', 'measure_asymmetry', 'CONFIG_KEYS', 'DEFAULT_KIND', 'SoftEqConfig',
    'export_model', 'inject_soft_equivariance',
    'softeq_config', 'softeq_report', 'BUFFER_PREFIX', 'GridProjection', 'KernelProjection',
    'OffsetGridProjection', 'is_swapped',
    'project_parameter', 'projected_parameters', 'raw_parameters', 'ProjectedTensor',
    'ProjectionReport', 'UntouchedTensor', 'BUILTIN_RULES', 'KINDS', 'TARGETS', 'Rule',
    'register_rules', 'rules_for', 'GridOffset', 'grid_offset', 'off_centre_layers'
]
