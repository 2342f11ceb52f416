"""The projection report's asymmetry column: each projected tensor's relative asymmetry before
(``θ``) and after (``P·θ``) projection, from the model's current weights.

``measure_asymmetry(model)`` runs at injection (the initial weights) and again whenever a tool
or a run wants the figures of loaded weights (e.g. the pretrained start of a fine-tuning).
"""
from __future__ import annotations

import dataclasses
from typing import Optional

import torch
from torch import nn

from ..groups import (asymmetry_form, evaluation_measure, parse_group, pooled_asymmetry,
                      quarter_turn_form)
from .reparam import projected_parameters
from .report import ProjectionReport


def measure_asymmetry(model: nn.Module,
                      report: Optional[ProjectionReport] = None) -> ProjectionReport:
    """Fill ``asymmetry = (of θ, of P·θ)`` of every projected entry of ``report`` (default: the
    model's own report) under the report's rotation measure; returns the report."""
    if report is None:
        report = model.__dict__.get('_softeq_report')
    if report is None:
        raise ValueError(f'{type(model).__name__} carries no soft equivariance (inject first)')
    measure = evaluation_measure(parse_group(report.group), report.angle_range)
    owners = {key: (module, name) for key, module, name in projected_parameters(model)}
    for index, entry in enumerate(report.projected):
        if entry.identity or entry.name not in owners:
            continue
        module, name = owners[entry.name]
        projection = module.__dict__['_softeq_projections'][name]
        if module._parameters[name].is_meta:
            continue
        with torch.no_grad():
            theta = module._parameters[name].detach()
            effective = getattr(module, name).detach()
        fields = [projection.fields(t).to(torch.float64).cpu().numpy() for t in (theta, effective)]
        values = {}
        for key, form in (('asymmetry', asymmetry_form(entry.grid_size, measure)),
                          ('quarter_turn', quarter_turn_form(entry.grid_size))):
            values[key] = tuple(pooled_asymmetry(f, form) for f in fields)
        report.projected[index] = dataclasses.replace(entry, **values)
    report.measure = measure.label
    return report
