"""Measure, per projected tensor, the invariance error the projection certificate bounds.

Every projected tensor is a stack of rows ``w_s = θ_s P`` (``N = k²`` entries) acting on
``k x k`` fields: a kernel ``θ (O, I, k, k)`` has the ``O·I`` slices ``θ[o, i]`` (row-major
flattened), a position grid ``θ (1, t + h·w, C)`` has the ``C`` channels of ``θ[0, t:]``.
``docs/math.md`` §3 (``ProjectionCertificate``) states, for every slice and every ``θ``:

* an element ``g`` of a difference generator ``D = ρ(g) − I``:
  ``‖w_s ρ(g) − w_s‖ ≤ β ‖θ_s‖``;
* a Lie generator ``L``, rotation by ``t`` radians (``ρ = expm(t L)``):
  ``‖w_s ρ − w_s‖ ≤ |t| β ‖θ_s‖``;
* the asymmetry generator of ``generator='resampled'`` (rotation measure ``μ``):
  ``sqrt(E_{T∼μ} ‖V_T (T − I) w_s‖²) ≤ β ‖θ_s‖``, measured here with
  ``mmsofteq.utils.rotate_field`` at the measure's nodes (``V_T``: the pixels where the rotated
  ones field is exactly 1), and each exact element ``g`` of the group (quarter turn,
  reflections) with the certificate's ``exact_bound``: ``‖w_s ρ(g) − w_s‖ ≤ exact_bound ‖θ_s‖``.

With ``c_g = 1`` (difference) or ``|t|`` (Lie) we measure, in float64 from the layer's
effective weight (the tensor the forward pass reads):

* weight:  ``e_W = max_s ‖w_s (ρ(g) − I)‖ / (c_g ‖θ_s‖)``                      ``≤ β``
* inputs:  ``e_X = max_{s, x} |w_s ρ(g) x − w_s x| / (c_g ‖θ_s‖ ‖x‖)``        ``≤ β``

``e_X`` is the change of the slice's response when its ``k x k`` input ``x`` (an image patch
under a kernel slice, a grid-sized image under a position channel) is acted on by ``g``;
Cauchy-Schwarz gives ``e_X ≤ e_W``. Both are maximised over the group elements listed by
``group_actions``. Slices with ``θ_s = 0`` are skipped (their row is 0).

Float rounding: ``P`` is stored and applied in the weight's dtype, so the measured weight
differs from the exact ``θ_s P`` by at most about ``(N+2) u ‖θ_s‖ ‖P‖_F`` (``u`` the dtype's
unit roundoff, ``2⁻²⁴`` for float32; ``‖P‖_F ≤ √N``); ``rounding_tolerance`` adds that, times
``‖ρ − I‖₂ / c_g``, to the bound before comparing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping, Optional, Sequence

import numpy as np
import torch
from scipy.linalg import expm
from torch import nn

from mmsofteq.groups import (DEFAULT_ANGLE_RANGE, GridSpace, RotationMeasure, evaluation_measure,
                             exact_elements, parse_group)
from mmsofteq.nn import measure_asymmetry, projected_parameters, softeq_report
from mmsofteq.nn.projections import PROJECTIONS
from mmsofteq.utils import rotate_field, text_table

#: Slices per chunk when applying a block of rows to the inputs (bounds temporary memory).
_CHUNK = 8192


@dataclass(frozen=True, eq=False)
class GroupAction:
    """One group element on the ``k x k`` grid and its factor in the bound.

    Attributes:
        label: e.g. ``'rot90'``, ``'flip_x'``, ``'so2 t=30°'``.
        matrix: ``ρ(g)`` ``(N, N)`` float64 (row-major grid, acts on column fields);
            ``None`` for a rotation measure.
        scale: ``c_g``: 1 for a difference generator's element, ``|t|`` for ``expm(t L)``.
        bound: the certificate attribute that bounds it: ``'bound'`` or ``'exact_bound'``.
        measure: the rotation measure of an asymmetry generator (``matrix`` is ``None``).
    """

    label: str
    matrix: Optional[np.ndarray]
    scale: float
    bound: str = 'bound'
    measure: Optional[RotationMeasure] = None


def group_actions(group: str, size: int, angles_deg: Sequence[float] = (30.0, ),
                  generator: str = 'resampled',
                  angle_range: Sequence[float] = DEFAULT_ANGLE_RANGE
                  ) -> tuple[GroupAction, ...]:
    """The elements whose error the certificate of ``invariant_projector(group, size,
    generator=...)`` bounds.

    Exactly the generators the projector was built from (``all_reflections=True``): a
    difference generator ``D = (ρ − I)/t`` gives ``ρ = t D + I`` (``c = t``: 1 for plain
    differences, the rotation angle for the paper's bilinear ones); a Lie generator ``L``
    gives ``ρ = expm(t L)`` for each ``t`` in ``angles_deg`` (``c = |t|`` in radians); the
    asymmetry generator of ``'resampled'`` gives its rotation measure (``angle_range`` for
    SO2/O2) and the group's exact elements (bounded by ``exact_bound``).
    """
    return _group_actions(group, size, tuple(float(angle) for angle in angles_deg), generator,
                          tuple(float(angle) for angle in angle_range))


@lru_cache(maxsize=64)
def _group_actions(group: str, size: int, angles_deg: tuple[float, ...], generator: str,
                   angle_range: tuple[float, float]) -> tuple[GroupAction, ...]:
    """Cached ``group_actions`` (matrices are read-only)."""
    actions = []
    parsed = parse_group(group)
    for spec in parsed.generators(GridSpace(size), all_reflections=True,
                                  discretisation=generator, angle_range=angle_range):
        if spec.kind == 'asymmetry':
            actions.append(GroupAction(spec.label, None, 1.0,
                                       measure=evaluation_measure(parsed, angle_range)))
            actions += [GroupAction(f'exact {index}', element, 1.0, 'exact_bound')
                        for index, element in enumerate(exact_elements(parsed, size))]
            continue
        if spec.kind == 'difference':
            matrix = spec.step * spec.matrix + np.eye(spec.dim)
            actions.append(GroupAction(spec.label, matrix, spec.step))
            continue
        for degrees in angles_deg:
            if degrees == 0:
                raise ValueError('angles_deg must be non-zero (the bound is |t|·β)')
            radians = math.radians(degrees)
            actions.append(GroupAction(f'{spec.label} t={degrees:g}°',
                                       expm(radians * spec.matrix), abs(radians)))
    for action in actions:
        if action.matrix is not None:
            action.matrix.setflags(write=False)
    return tuple(actions)


def measured_asymmetry(rows: np.ndarray, measure: RotationMeasure) -> np.ndarray:
    """``sqrt(Σ_T μ(T) ‖V_T (T − I) w_s‖²)`` per row ``w_s`` (``(S,)``), with ``T`` applied by
    ``mmsofteq.utils.rotate_field`` (and ``torch.rot90``/``torch.flip`` for the reflections);
    ``V_T``: the pixels where the ``T``-rotated ones field equals 1, i.e. no zero was read."""
    size = int(round(math.sqrt(rows.shape[1])))
    fields = torch.from_numpy(np.ascontiguousarray(rows)).reshape(-1, size, size)
    ones = torch.ones(1, size, size, dtype=torch.float64)
    total = torch.zeros(fields.shape[0], dtype=torch.float64)
    for angle, reflection, weight in zip(measure.angles, measure.reflections, measure.weights):
        degrees = math.degrees(angle)
        source = fields
        if reflection is not None:  # G = rot90^j ∘ flip_x acts first
            source = torch.rot90(torch.flip(fields, dims=(-1, )), reflection, dims=(-2, -1))
        moved = rotate_field(source, degrees)
        inside = (rotate_field(ones, degrees)[0] - 1).abs() < 1e-9
        total += weight * ((moved - fields) * inside).pow(2).sum(dim=(-2, -1))
    return total.sqrt().numpy()


def rounding_tolerance(dtype: torch.dtype, size: int, action: GroupAction) -> float:
    """Allowance for ``P`` stored and applied in ``dtype``: ``(N+2) u √N ‖ρ − I‖₂ / c``."""
    if not dtype.is_floating_point:
        return 0.0
    unit_roundoff = torch.finfo(dtype).eps / 2
    n = size * size
    spread = 2.0 if action.matrix is None else np.linalg.norm(action.matrix - np.eye(n), 2)
    return (n + 2) * unit_roundoff * math.sqrt(n) * spread / action.scale


def relative_errors(rows: np.ndarray, theta_rows: np.ndarray, action: GroupAction,
                    inputs: Optional[np.ndarray] = None, side: str = 'kernel') -> float:
    """``e_W`` (``inputs=None``) or ``e_X`` of ``rows`` under ``action`` (module docstring).

    Args:
        rows: effective rows ``w_s`` ``(S, N)``.
        theta_rows: the matching ``θ_s`` ``(S, N)`` (the certificate's ``‖θ_s‖``).
        action: the group element and its scale ``c_g``.
        inputs: ``(M, N)`` fields ``x`` (row-major ``k x k``); zero rows are skipped.
        side: ``'kernel'`` measures ``w_s (ρ − I)`` (a kernel acting on rotated patches),
            ``'data'`` ``(ρ − I) w_s`` (a position grid that rotates itself), the error each
            side's certificate bounds (the same for orthogonal ``ρ``).

    Returns:
        The maximum relative error (0.0 if every ``θ_s`` is zero).
    """
    if action.measure is not None and inputs is not None:
        return float('nan')  # a rotation measure bounds the weight, not single responses
    rows = np.asarray(rows, dtype=np.float64)
    theta_norms = np.linalg.norm(np.asarray(theta_rows, dtype=np.float64), axis=1)
    keep = theta_norms > 0
    if not keep.any():
        return 0.0
    rows, theta_norms = rows[keep], theta_norms[keep]
    n = rows.shape[1]
    if action.measure is not None:
        return float((measured_asymmetry(rows, action.measure) / theta_norms).max())
    difference = action.matrix - np.eye(n)
    change = rows @ (difference if side == 'kernel' else difference.T)  # w_s (ρ − I) / (ρ − I) w_s
    if inputs is None:
        return float((np.linalg.norm(change, axis=1) / theta_norms).max() / action.scale)
    inputs = np.asarray(inputs, dtype=np.float64)
    input_norms = np.linalg.norm(inputs, axis=1)
    inputs, input_norms = inputs[input_norms > 0], input_norms[input_norms > 0]
    if inputs.size == 0:
        raise ValueError('inputs has no non-zero field')
    worst = 0.0
    for start in range(0, change.shape[0], _CHUNK):
        responses = np.abs(change[start:start + _CHUNK] @ inputs.T)       # (S', M)
        responses /= theta_norms[start:start + _CHUNK, None] * input_norms[None, :]
        worst = max(worst, float(responses.max()))
    return worst / action.scale


@dataclass(frozen=True)
class TensorCheck:
    """Measured errors of one projected tensor next to its certificate.

    Attributes:
        name: state-dict key.
        kind: ``'patch_embed' | 'pos_embed' | 'conv'``.
        grid_size: ``k``.
        softness: the softness applied.
        kept, total: kept directions / ``N``.
        bound: the certificate's ``β``.
        rule: generator, cutoff kind, softness and rounding (e.g.
            ``'spectral:hard(s=0.9,frequency)'``).
        tolerance: float-rounding allowance (``rounding_tolerance``, worst action).
        weight_error: ``e_W``, maximised over the group actions.
        input_errors: ``{source: e_X}``, maximised over the group actions.
        per_action: ``{action label: {'weight' | source: error}}``.
        exact_bound, exact_error: ``generator='resampled'``: the certificate's bound for the
            exact elements and the largest measured ``e_W``/``e_X`` under them.
        asymmetry: ``(of θ, of W)``, the tensor's relative asymmetry under the evaluation's
            rotations (the projection report's column), or ``None``.
    """

    name: str
    kind: str
    grid_size: int
    softness: float
    kept: int
    total: int
    bound: float
    tolerance: float
    weight_error: float
    rule: str = ''
    input_errors: dict = field(default_factory=dict)
    per_action: dict = field(default_factory=dict)
    exact_bound: Optional[float] = None
    exact_error: Optional[float] = None
    asymmetry: Optional[tuple] = None

    @property
    def measured(self) -> float:
        """The largest measured error under ``β`` (weight and every input source; sources a
        rotation measure does not bound are ``nan`` and skipped)."""
        return max(value for value in [self.weight_error, *self.input_errors.values()]
                   if not math.isnan(value))

    @property
    def passed(self) -> bool:
        """``measured ≤ β + tolerance`` (and the exact elements within ``exact_bound``)."""
        exact_ok = self.exact_error is None or \
            self.exact_error <= self.exact_bound + self.tolerance
        return self.measured <= self.bound + self.tolerance and exact_ok


def effective_rows(module: nn.Module, name: str) -> tuple[np.ndarray, np.ndarray, torch.dtype]:
    """``(w rows, θ rows, dtype)`` of a projected parameter, float64 ``(S, N)`` each.

    The effective tensor is ``getattr(module, name)`` (what the forward pass reads). Kernels
    ``(O, I, k, k)`` give ``O·I`` slices; a grid ``(1, t + h·w, C)`` gives its ``C`` channels
    of the ``h·w`` grid tokens (the ``t`` prefix tokens are not projected); a relative-position
    table ``(n + extra, heads)`` its ``heads`` columns over the ``n`` offset rows.
    """
    projection = module.__dict__['_softeq_projections'][name]
    theta = module._parameters[name].detach()
    with torch.no_grad():
        effective = getattr(module, name).detach()
    theta_rows, rows = projection.fields(theta), projection.fields(effective)
    return (rows.to(torch.float64).cpu().numpy(), theta_rows.to(torch.float64).cpu().numpy(),
            theta.dtype)


def check_rows(rows: np.ndarray, theta_rows: np.ndarray, actions: Sequence[GroupAction], *,
               bound: float, tolerance: float = 0.0,
               inputs: Optional[Mapping[str, np.ndarray]] = None, name: str = '',
               kind: str = '', softness: float = float('nan'), kept: int = -1,
               side: str = 'kernel', rule: str = '', exact_bound: Optional[float] = None,
               asymmetry: Optional[tuple] = None) -> TensorCheck:
    """Measure ``e_W`` and ``e_X`` for every action; pair them with ``bound`` (actions of the
    exact elements of ``generator='resampled'`` with ``exact_bound``)."""
    inputs = dict(inputs or {})
    per_action = {}
    for action in actions:
        errors = {'weight': relative_errors(rows, theta_rows, action, side=side)}
        for source, fields in inputs.items():
            errors[source] = relative_errors(rows, theta_rows, action, fields, side)
        per_action[action.label] = errors
    main = [per_action[a.label] for a in actions if a.bound == 'bound']
    exact = [value for a in actions if a.bound == 'exact_bound'
             for value in per_action[a.label].values()]

    def largest(key):
        values = [errors[key] for errors in main if not math.isnan(errors[key])]
        return max(values) if values else float('nan')  # nan: not measured

    size = int(round(math.sqrt(rows.shape[1])))
    return TensorCheck(
        name=name, kind=kind, grid_size=size, softness=softness, kept=kept, total=rows.shape[1],
        bound=bound, tolerance=tolerance, rule=rule, weight_error=largest('weight'),
        input_errors={source: largest(source) for source in inputs}, per_action=per_action,
        exact_bound=exact_bound if exact else None,
        exact_error=max(exact) if exact else None, asymmetry=asymmetry)


def check_model_certificates(model: nn.Module, inputs: Optional[Mapping[str, object]] = None,
                             angles_deg: Sequence[float] = (30.0, ), count: int = 256
                             ) -> list[TensorCheck]:
    """Check every projected tensor of an injected model against its certificate.

    Args:
        model: a model after ``inject_soft_equivariance`` (its report holds the bounds).
        inputs: ``{source name: PatchSource}``; each gives ``count`` ``k x k`` fields per
            grid size ``k`` (:mod:`softeq_lab.certificates.inputs`), shared by the
            tensors of that size.
        angles_deg: rotation angles for Lie generators.
        count: fields per source and tensor.

    Returns:
        One ``TensorCheck`` per projected (non-identity) tensor, in report order.
    """
    report = softeq_report(model)
    if report is None:
        raise ValueError(f'{type(model).__name__} carries no soft equivariance (inject first)')
    owners = {key: (module, name) for key, module, name in projected_parameters(model)}
    fields_by_size: dict[int, dict] = {}       # tensors of one grid size share their inputs
    measure_asymmetry(model, report)           # of the weights loaded now
    checks = []
    for entry in report.projected:
        if entry.identity:
            continue
        module, name = owners[entry.name]
        rows, theta_rows, dtype = effective_rows(module, name)
        certificate = entry.certificate
        actions = group_actions(report.group, entry.grid_size, angles_deg,
                                certificate.generator, report.angle_range)
        if entry.grid_size not in fields_by_size:
            fields_by_size[entry.grid_size] = {
                source: patch_source.patches(entry.grid_size, count)
                for source, patch_source in (inputs or {}).items()}
        fields = fields_by_size[entry.grid_size]
        tolerance = max(rounding_tolerance(dtype, entry.grid_size, action)
                        for action in actions)
        checks.append(check_rows(rows, theta_rows, actions, bound=certificate.bound,
                                 tolerance=tolerance, inputs=fields, name=entry.name,
                                 kind=entry.kind, softness=entry.softness,
                                 kept=certificate.kept,
                                 side=PROJECTIONS[entry.target].side,
                                 rule=f'{certificate.generator}:{certificate.cutoff.describe()}',
                                 exact_bound=certificate.exact_bound,
                                 asymmetry=entry.asymmetry))
    return checks


def format_checks(checks: Sequence[TensorCheck], sources: Sequence[str] = (),
                  markdown: bool = False) -> str:
    """A table: name, kind, k, rule, kept/N, asymmetry of θ → of W, bound β, measured e_W
    and e_X, the exact elements' bound and error (``'resampled'``), ok."""
    header = ['name', 'kind', 'k', 'rule', 'kept/N', 'asymmetry', 'bound β', 'weight e_W',
              *[f'{source} e_X' for source in sources], 'exact bound', 'exact e', 'ok']
    rows = []
    for check in checks:
        asymmetry = '-' if check.asymmetry is None else \
            f'{100 * check.asymmetry[0]:.0f}%→{100 * check.asymmetry[1]:.0f}%'
        rows.append([check.name, check.kind, str(check.grid_size), check.rule,
                     f'{check.kept}/{check.total}', asymmetry, f'{check.bound:.4g}',
                     f'{check.weight_error:.4g}',
                     *['-' if math.isnan(check.input_errors[source])
                       else f'{check.input_errors[source]:.4g}' for source in sources],
                     '-' if check.exact_bound is None else f'{check.exact_bound:.4g}',
                     '-' if check.exact_error is None else f'{check.exact_error:.4g}',
                     'yes' if check.passed else 'NO'])
    if markdown:
        rows = [[f'`{row[0]}`'] + row[1:] for row in rows]
    return text_table(header, rows, style='markdown' if markdown else 'plain')
