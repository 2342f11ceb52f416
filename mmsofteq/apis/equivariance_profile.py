"""Where does a model break rotation equivariance? Per-layer errors and an attribution that
adds up to the end-to-end error.

For an input batch ``x`` and a rotation ``R`` by ``a`` degrees, every forward call of a leaf
module (a *call*: a module used twice, as mmseg's ``ResNet`` ``relu``, has two) gives an
output ``z_l``. Its **error** is

    ``e_l = ‖(f_l(Rx) − R z_l(x)) ⊙ V‖ / ‖R z_l(x) ⊙ V‖``

with ``V`` the pixels that stay in view (``utils.rotation.rotation_valid_mask``; all of them
for quarter turns). ``R`` acts on what the output holds: a map ``(B, C, h, w)``, or
``(B, h, w, C)`` as ConvNeXt's point-wise layers keep it (the pair of axes with the input's
aspect ratio is spatial), is rotated in the input's frame; tokens ``(B, p + h·w, C)`` are read
on the grid of a map seen before (the fit with the fewest leading tokens ``p ≤ 8``, e.g.
cls/registers, which are left as they are; then the most recent map); vectors ``(B, C)`` are
invariant. Outputs of any other form are listed as not mapped.

**Attribution** (the finite-angle form of the layer-wise Lie derivative of Gruver et al., ICLR
2023): let ``A_l`` be the model's output on ``Rx`` when the outputs of the first ``l`` mapped
calls are replaced by ``R z_k(x)``. ``A_0 = F(Rx)`` and, when the model's output is the last
call's, ``A_L = R F(x)``, so the end-to-end error ``E = F(Rx) − R F(x)`` is exactly

    ``E = Σ_l (A_{l−1} − A_l) + (A_L − R F(x))``,

call ``l``'s own defect carried through the rest of the network, plus what follows the last
call (``glue``). Each term's component along ``E`` divided by ``‖R F(x) ⊙ V‖`` is its
**contribution**: they sum to the end-to-end relative error ``‖E ⊙ V‖ / ‖R F(x) ⊙ V‖`` (a
negative one repairs part of the error). Functional operations between calls (residual sums,
reshapes, resizes) count with the call that consumes them. Cost: one clean forward, then
``L + 1`` per angle for ``L`` mapped calls.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from ..groups import DEFAULT_ANGLE_RANGE, parse_group
from ..nn.reparam import is_swapped
from ..utils.rotation import rotate_field, rotation_valid_mask
from ..utils.tables import text_table

#: Most leading tokens (cls, registers, distillation) a token output may carry before its grid.
MAX_PREFIX_TOKENS = 8


def _quartile_midpoints(low: float, high: float) -> tuple[float, ...]:
    """``low + (q + 1/2)(high − low)/4`` for ``q = 0..3``: one angle per quarter of U(low, high)."""
    return tuple(low + (q + 0.5) * (high - low) / 4 for q in range(4))


#: The profile's default angles: the exact quarter turn, and the quartile midpoints of the
#: rotated evaluation's U(low, high) (``groups.DEFAULT_ANGLE_RANGE``: −22.5°, −7.5°, 7.5°, 22.5°).
PROFILE_ANGLES = (90.0, ) + _quartile_midpoints(*DEFAULT_ANGLE_RANGE)


@dataclass(frozen=True)
class CallProfile:
    """One forward call of a leaf module under one rotation.

    Attributes:
        name: the module's qualified name, ``#k`` appended for its k-th call (k ≥ 2).
        module_type: the module's class name.
        shape: the output's shape.
        projected: whether the module is re-parameterised as ``P·θ`` (mmsofteq).
        error: ``e_l`` of the module docstring (``nan`` when not mapped or when ``R z_l`` is
            0 on ``V``).
        contribution: its share of the end-to-end relative error (``nan`` when not mapped).
    """

    name: str
    module_type: str
    shape: Tuple[int, ...]
    projected: bool
    error: float
    contribution: float


@dataclass(frozen=True)
class AngleProfile:
    """The profile under one rotation: the calls in forward order, the end-to-end relative
    error, and the contribution of what follows the last call (``glue``)."""

    angle: float
    end_to_end: float
    glue: float
    calls: Tuple[CallProfile, ...]


@dataclass(frozen=True)
class EquivarianceProfile:
    """Profiles of one model on one batch, one per angle (:func:`profile_equivariance`)."""

    angles: Tuple[AngleProfile, ...]
    unmapped: Tuple[str, ...] = field(default=())

    def table(self, limit: Optional[int] = None, style: str = 'plain',
              certificates: Optional[Dict[str, str]] = None) -> str:
        """Calls as rows, ``error`` and ``contribution`` per angle as columns (x100); the
        ``limit`` calls with the largest mean contribution when given; ``style``:
        ``'plain'`` or ``'markdown'`` (``utils.text_table``). ``certificates``: module name ->
        text shown in the ``P·θ`` column of its calls (e.g. the bound ``β``,
        :func:`certificate_notes`)."""
        certificates = certificates or {}
        calls = [call for call in self.angles[0].calls if not math.isnan(call.contribution)]
        rows = {call.name: [call.name, call.module_type,
                            certificates.get(call.name.split('#')[0],
                                             'yes' if call.projected else '')]
                for call in calls}
        for profile in self.angles:
            for call in profile.calls:
                if call.name in rows:
                    rows[call.name] += [f'{100 * call.error:.2f}',
                                        f'{100 * call.contribution:+.2f}']
        order = [call.name for call in calls]
        if limit is not None:
            order = [name for name, _ in self.top(limit)]
        header = ['call', 'type', 'P·θ']
        for profile in self.angles:
            header += [f'err {profile.angle:g}°', f'contrib {profile.angle:g}°']
        body = [rows[name] for name in order]
        body.append(['(after the last call)', '', ''] + sum(
            [['', f'{100 * p.glue:+.2f}'] for p in self.angles], []))
        body.append(['end to end', '', ''] + sum(
            [[f'{100 * p.end_to_end:.2f}', f'{100 * p.end_to_end:.2f}'] for p in self.angles], []))
        return text_table(header, body, style)

    def top(self, count: int = 10) -> List[Tuple[str, float]]:
        """``(call, mean contribution over the angles)``, largest first."""
        totals: Dict[str, List[float]] = {}
        for profile in self.angles:
            for call in profile.calls:
                if not math.isnan(call.contribution):
                    totals.setdefault(call.name, []).append(call.contribution)
        means = {name: sum(values) / len(values) for name, values in totals.items()}
        return sorted(means.items(), key=lambda item: -item[1])[:count]

    def stages(self, depth: int = 2) -> Dict[str, float]:
        """Mean contribution summed per name prefix of ``depth`` parts (``backbone.layers``
        at 2): contributions add, so these are the stages' shares of the error."""
        sums: Dict[str, float] = {}
        for profile in self.angles:
            for call in profile.calls:
                if not math.isnan(call.contribution):
                    prefix = '.'.join(call.name.split('#')[0].split('.')[:depth])
                    sums[prefix] = sums.get(prefix, 0.0) + call.contribution / len(self.angles)
        return sums


def certificate_notes(report) -> Dict[str, str]:
    """Module name -> ``'β=<bound> k/N'`` for each tensor a projection report projected
    (``mmsofteq.nn.softeq_report(model)``; the parameter's name without its last part)."""
    notes: Dict[str, str] = {}
    for entry in getattr(report, 'projected', []):
        if entry.identity:
            continue
        module = entry.name.rsplit('.', 1)[0]
        row = entry.certificate.as_row()
        notes[module] = f"β={row['bound']} {row['kept']}"
    return notes


class _Action:
    """``R`` on a module output (module docstring), with the output's valid mask."""

    def __init__(self, angle: float, frame_hw: Tuple[int, int]) -> None:
        self.angle, self.frame_hw = float(angle), frame_hw

    def layout(self, output, grids: Sequence[Tuple[int, int]]) -> Optional[tuple]:
        """``('map',)`` (``(B, C, h, w)``), ``('map_last',)`` (``(B, h, w, C)``, e.g.
        ConvNeXt's point-wise layers), ``('tokens', prefix, h, w)``, ``('vector',)`` or
        ``None``; ``grids``: the ``(h, w)`` of the maps seen before, most recent first."""
        if not isinstance(output, torch.Tensor) or not output.is_floating_point():
            return None
        if output.dim() == 4:
            axes = map_axes(output.shape, self.frame_hw)
            return None if axes is None else (('map', ) if axes == 'first' else ('map_last', ))
        if output.dim() == 2:
            return ('vector', )
        if output.dim() == 3:
            fits = [(output.shape[1] - h * w, order, (h, w))
                    for order, (h, w) in enumerate(grids)
                    if 0 <= output.shape[1] - h * w <= MAX_PREFIX_TOKENS]
            if fits:  # the fewest leading tokens, then the most recent map
                prefix, _, grid = min(fits)
                return ('tokens', prefix) + tuple(grid)
        return None

    def apply(self, output: torch.Tensor, layout: tuple) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(R output, valid mask broadcastable to output)``."""
        if layout[0] == 'vector':
            return output.clone(), torch.ones_like(output, dtype=torch.bool)
        if layout[0] == 'map':
            rotated = rotate_field(output, self.angle, self.frame_hw)
            mask = rotation_valid_mask(output.shape[-2:], self.angle, self.frame_hw,
                                       output.device)
            return rotated, mask.expand_as(output)
        if layout[0] == 'map_last':
            rotated, mask = self.apply(output.permute(0, 3, 1, 2), ('map', ))
            return rotated.permute(0, 2, 3, 1), mask.permute(0, 2, 3, 1)
        _, prefix, height, width = layout
        batch, _, channels = output.shape
        grid = output[:, prefix:].transpose(1, 2).reshape(batch, channels, height, width)
        rotated = rotate_field(grid, self.angle, self.frame_hw)
        tokens = torch.cat([output[:, :prefix], rotated.flatten(2).transpose(1, 2)], dim=1)
        mask = rotation_valid_mask((height, width), self.angle, self.frame_hw, output.device)
        mask = torch.cat([torch.ones(prefix, dtype=torch.bool, device=output.device),
                          mask.flatten()])
        return tokens, mask[None, :, None].expand_as(output)


def _training_modes(model: nn.Module) -> Dict[nn.Module, bool]:
    return {module: module.training for module in model.modules()}


def _restore_modes(modes: Dict[nn.Module, bool]) -> None:
    """Each module's own ``training`` flag back (a frozen part stays in eval mode)."""
    for module, training in modes.items():
        module.training = training


def map_axes(shape: Sequence[int], frame_hw: Sequence[int]) -> Optional[str]:
    """Where the spatial axes of a 4-D ``shape`` are: ``'first'`` (``(B, C, h, w)``) or
    ``'last'`` (``(B, h, w, C)``), judged by which pair has the frame's aspect ratio
    (``|h·W − w·H| ≤ max(H, W)``, room for strided rounding); ``None`` if neither."""
    height, width = frame_hw

    def fits(h: int, w: int) -> bool:
        return abs(h * width - w * height) <= max(height, width)
    if fits(shape[2], shape[3]):
        return 'first'
    if fits(shape[1], shape[2]):
        return 'last'
    return None


def _relative(difference: torch.Tensor, reference: torch.Tensor, mask: torch.Tensor) -> float:
    scale = float(torch.linalg.vector_norm((reference * mask).double()))
    value = float(torch.linalg.vector_norm((difference * mask).double()))
    return value / scale if scale > 0 else float('nan')


class _Recorder:
    """Forward hooks on the leaf modules: record outputs per call, or replace them."""

    def __init__(self, model: nn.Module, frame_hw: Tuple[int, int]) -> None:
        self.frame_hw = frame_hw
        self.leaves = [(name, module) for name, module in model.named_modules()
                       if name and not list(module.children())]
        self.outputs: List[Tuple[str, nn.Module, object, Tuple[Tuple[int, int], ...]]] = []
        self.replacements: Dict[int, torch.Tensor] = {}
        self._grids: Tuple[Tuple[int, int], ...] = ()
        self._handles = []

    def __enter__(self) -> '_Recorder':
        for name, module in self.leaves:
            self._handles.append(module.register_forward_hook(self._hook(name)))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()

    def start(self, replacements: Optional[Dict[int, torch.Tensor]] = None) -> None:
        self.outputs, self._grids = [], ()
        self.replacements = replacements or {}

    def _hook(self, name: str):
        def hook(module, args, output):
            index = len(self.outputs)
            grids = self._grids
            axes = (map_axes(output.shape, self.frame_hw)
                    if isinstance(output, torch.Tensor) and output.dim() == 4 else None)
            if axes is not None:
                grid = tuple(output.shape[2:4] if axes == 'first' else output.shape[1:3])
                self._grids = (grid, ) + tuple(g for g in grids if g != grid)
            kept = output.detach().clone() if isinstance(output, torch.Tensor) else None
            self.outputs.append((name, module, kept, grids))
            if index in self.replacements:
                return self.replacements[index].clone()
            return None
        return hook


def model_output(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """The tensor the profile compares: ``model(inputs, mode='tensor')`` (an mmseg
    segmentor's logits ``(B, C, h, w)``, an mmpretrain classifier's ``(B, C)``)."""
    output = model(inputs, mode='tensor')
    if isinstance(output, (tuple, list)) and len(output) == 1:
        output = output[0]
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"profile_equivariance needs model(inputs, mode='tensor') to return "
                        f'one tensor, got {type(output).__name__}')
    return output


@torch.no_grad()
def profile_equivariance(model: nn.Module, inputs: torch.Tensor,
                         angles: Sequence[float] = PROFILE_ANGLES) -> EquivarianceProfile:
    """Per-call equivariance errors and their contributions (module docstring).

    Args:
        model: a segmentor or classifier whose ``forward(inputs, mode='tensor')`` returns
            logits; put in eval mode for the profile and restored after.
        inputs: ``(B, 3, H, W)`` normalised images (the model's ``data_preprocessor``
            output), ``H = W`` for exact quarter turns.
        angles: counter-clockwise degrees.

    Returns:
        :class:`EquivarianceProfile`, one :class:`AngleProfile` per angle.
    """
    if inputs.dim() != 4:
        raise ValueError(f'inputs must be (B, C, H, W), got {tuple(inputs.shape)}')
    modes = _training_modes(model)
    model.eval()
    frame = tuple(inputs.shape[-2:])
    try:
        with _Recorder(model, frame) as recorder:
            recorder.start()
            clean_output = model_output(model, inputs)
            clean = list(recorder.outputs)
            profiles = [_profile_angle(model, inputs, clean_output, clean, recorder,
                                       _Action(angle, frame)) for angle in angles]
    finally:
        _restore_modes(modes)
    unmapped = tuple(sorted({_label(clean, index) for index, (_, _, output, grids)
                             in enumerate(clean)
                             if _Action(0.0, frame).layout(output, grids) is None}))
    return EquivarianceProfile(tuple(profiles), unmapped)


def _label(calls, index: int) -> str:
    name = calls[index][0]
    count = sum(1 for other, *_ in calls[:index + 1] if other == name)
    return name if count == 1 else f'{name}#{count}'


def _profile_angle(model, inputs, clean_output, clean, recorder, action) -> AngleProfile:
    layouts = [action.layout(output, grids) for _, _, output, grids in clean]
    target, mask = action.apply(clean_output, _output_layout(action, clean_output))
    rotated_inputs = rotate_field(inputs, action.angle)
    recorder.start()
    rotated_output = model_output(model, rotated_inputs)
    rotated = list(recorder.outputs)
    if len(rotated) != len(clean):
        raise RuntimeError(f'the rotated forward made {len(rotated)} module calls, the clean '
                           f'one {len(clean)}: the profile needs the same calls')
    error = (rotated_output.double() - target.double()) * mask
    norm_e = float(torch.linalg.vector_norm(error))
    norm_t = float(torch.linalg.vector_norm(target.double() * mask))
    mapped = [index for index, layout in enumerate(layouts) if layout is not None]
    replaced = {index: action.apply(clean[index][2], layouts[index])[0] for index in mapped}

    def component(previous: torch.Tensor, current: torch.Tensor) -> float:
        if norm_e == 0 or norm_t == 0:
            return 0.0
        step = (previous.double() - current.double()) * mask
        return float((step * error).sum()) / (norm_e * norm_t)

    contributions: Dict[int, float] = {}
    previous = rotated_output
    for count, index in enumerate(mapped, 1):
        recorder.start({k: replaced[k] for k in mapped[:count]})
        current = model_output(model, rotated_inputs)
        contributions[index] = component(previous, current)
        previous = current
    calls = []
    for index, (name, module, output, _) in enumerate(clean):
        layout = layouts[index]
        if layout is None:
            err = float('nan')
        else:
            reference, valid = replaced[index], action.apply(clean[index][2], layout)[1]
            err = _relative(rotated[index][2] - reference, reference, valid)
        calls.append(CallProfile(
            _label(clean, index), type(module).__name__,
            tuple(output.shape) if isinstance(output, torch.Tensor) else (), is_swapped(module),
            err, contributions.get(index, float('nan'))))
    return AngleProfile(action.angle, norm_e / norm_t if norm_t else float('nan'),
                        component(previous, target), tuple(calls))


def _output_layout(action: _Action, output: torch.Tensor) -> tuple:
    layout = action.layout(output, ())
    if layout is None:
        raise ValueError(f'the model output {tuple(output.shape)} is neither a map (B, C, h, w) '
                         'nor a vector (B, C): no rotation acts on it')
    return layout


def group_angles(group: str) -> Tuple[float, ...]:
    """The non-identity rotations of ``'C<n>'`` (``360 k / n`` degrees) or, for ``'SO2'``,
    :data:`PROFILE_ANGLES`."""
    parsed = parse_group(group)
    if parsed.reflection or parsed.three_dimensional or parsed.order == 1:
        raise ValueError(f"check_equivariance takes group 'C<n>' (n >= 2) or 'SO2', got "
                         f'{group!r}')
    if parsed.order is None:
        return PROFILE_ANGLES
    return tuple(360.0 * k / parsed.order for k in range(1, parsed.order))


@torch.no_grad()
def equivariance_errors(model: nn.Module, inputs: torch.Tensor,
                        angles: Sequence[float]) -> Dict[float, float]:
    """``{angle: ‖(F(Rx) − R F(x)) ⊙ V‖ / ‖R F(x) ⊙ V‖}`` for the model output of
    :func:`model_output` (maps rotated, vectors invariant; ``V`` the in-view pixels)."""
    modes = _training_modes(model)
    model.eval()
    try:
        clean = model_output(model, inputs)
        errors = {}
        for angle in angles:
            action = _Action(angle, tuple(inputs.shape[-2:]))
            target, mask = action.apply(clean, _output_layout(action, clean))
            rotated = model_output(model, rotate_field(inputs, angle))
            errors[float(angle)] = _relative(rotated - target, target, mask)
    finally:
        _restore_modes(modes)
    return errors


def check_equivariance(model: nn.Module, group: str = 'C4',
                       inputs: Optional[torch.Tensor] = None, *, tolerance: float = 1e-4,
                       input_size: int = 64, seed: int = 0) -> Dict[float, float]:
    """Assert that ``model`` is equivariant (maps) or invariant (vectors) under ``group``.

    ``check_equivariance(model, 'C4')`` in a test raises ``AssertionError`` listing each
    rotation's relative error when one exceeds ``tolerance``; else returns the errors.

    Args:
        model: as :func:`profile_equivariance`.
        group: ``'C<n>'`` (the ``n − 1`` rotations; exact for ``n`` dividing 4) or ``'SO2'``
            (bilinear rotations by :data:`PROFILE_ANGLES`, compared on the in-view pixels).
        inputs: ``(B, C, H, W)``; default one seeded ``N(0, 1)`` image of ``3 × input_size²``.
        tolerance: largest relative error accepted.
    """
    angles = group_angles(group)
    if inputs is None:
        generator = torch.Generator().manual_seed(seed)
        parameter = next(model.parameters(), None)
        inputs = torch.randn(1, 3, input_size, input_size, generator=generator)
        if parameter is not None:
            inputs = inputs.to(parameter.device, parameter.dtype)
    errors = equivariance_errors(model, inputs, angles)
    failed = {angle: error for angle, error in errors.items()
              if not error <= tolerance}
    if failed:
        lines = ', '.join(f'{angle:g}°: {error:.3g}' for angle, error in errors.items())
        raise AssertionError(f'{type(model).__name__} is not {group}-equivariant within '
                             f'{tolerance:g} (relative error per rotation: {lines})')
    return errors


def suggested_softeq(profile: EquivarianceProfile, model: nn.Module, count: int = 5,
                     softness: float = 0.8) -> Optional[str]:
    """A ``softeq`` line that also projects the ``Conv2d`` kernels (``k ≥ 2``, not yet
    ``P·θ``) among the ``count`` calls with the largest positive mean contribution, by
    ``include`` patterns; ``None`` when there is none. A starting point: which tensors the
    rules already project is in the projection report; measure the result again."""
    modules = dict(model.named_modules())
    names = []
    for label, share in profile.top(count):
        name = label.split('#')[0]
        module = modules.get(name)
        if (share > 1e-6 and isinstance(module, nn.Conv2d) and min(module.kernel_size) >= 2
                and not is_swapped(module) and name not in names):
            names.append(name)
    if not names:
        return None
    patterns = ', '.join(f"r'^{re.escape(name)}\\.weight$'" for name in names)
    return f"softeq=dict(group='SO2', softness={softness:g}, include=[{patterns}])"
