"""The projection report: every tensor a rule or pattern considered, projected or not, and why.

Logged once per injection (``MMLogger.get_current_instance()``) and printed
by ``tools/analysis_tools/print_projection_report.py``. Projected rows carry the projector's
certificate: kept directions out of the total, exact null directions, the cutoff ``τ`` used,
and the bound constant ``β = ‖A P‖₂`` (``‖W ρ(g) − W‖_F ≤ β ‖θ‖_F`` per slice, see
``mmsofteq.projection.ProjectionCertificate``).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from ..groups import DEFAULT_ANGLE_RANGE
from ..projection import ProjectionCertificate
from ..utils.tables import text_table

COLUMNS = ('name', 'kind', 'shape', 'group', 'softness', 'kept/total', 'null', 'tau', 'bound',
           'asymmetry', 'rot90', 'method', 'generator', 'cutoff')

#: What the bound β of each generator bounds (one line per generator in the report).
BOUND_MEANING = {
    'resampled': 'β bounds the root-mean-square asymmetry of every projected slice under the '
                 'evaluation\'s rotations: sqrt(E_T ‖V_T (T − I) W‖²) ≤ β ‖θ‖, T ∼ {measure} '
                 '(bilinear resampling, compared inside the grid; a 2x2 grid, which no such '
                 'rotation keeps a pixel of, takes the exact elements instead); the exact '
                 'quarter/half turn and reflections the group holds move W by at most the '
                 'certificate\'s exact_bound · ‖θ‖',
    'spectral': 'β bounds ‖W e^(tL) − W‖ ≤ |t| β ‖θ‖ for the spectral generator L and '
                '‖W ρ(g) − W‖ ≤ β ‖θ‖ for the exact elements; it does not bound the bilinear '
                'resampling the rotated evaluation applies',
    'bilinear': 'β bounds ‖(R − I) W‖ ≤ t β ‖θ‖ for the one bilinear rotation R by t = 2π/n '
                '(and the flip) the paper\'s generator is built from; nothing is claimed for '
                'other angles',
}


@dataclass(frozen=True)
class ProjectedTensor:
    """A tensor re-parameterised as ``P·θ``, or listed as identity (softness 1).

    Attributes:
        name: state-dict key.
        shape: shape of ``θ``.
        kind: ``'patch_embed' | 'pos_embed' | 'conv' | 'rel_pos'``.
        target: ``'kernel'``, ``'pos_grid'`` or ``'offset_grid'``.
        grid_size: ``k`` of the ``k x k`` grid ``P`` acts on (``2M - 1`` for the offsets of an
            ``M x M`` window).
        softness: the softness applied.
        certificate: the projector's certificate; ``None`` for softness 1 (no projector is
            built, the tensor is not touched at all).
        asymmetry: ``(of θ, of P·θ)``: the tensor's relative asymmetry under the report's
            rotation measure (``groups.pooled_asymmetry``) when the report was last measured
            (:func:`measure_asymmetry`); ``None`` before.
        quarter_turn: ``(of θ, of P·θ)``: the same under the exact quarter turn alone.
    """

    name: str
    shape: tuple
    kind: str
    target: str
    grid_size: int
    softness: float
    certificate: Optional[ProjectionCertificate]
    asymmetry: Optional[tuple] = None
    quarter_turn: Optional[tuple] = None

    @property
    def identity(self) -> bool:
        return self.certificate is None or self.certificate.is_identity

    def row(self, group: str) -> dict:
        total = self.grid_size * self.grid_size
        row = dict(name=self.name, kind=self.kind, shape='x'.join(map(str, self.shape)),
                   group=group, softness=f'{self.softness:g}')
        if self.certificate is None:
            row.update({'kept/total': f'{total}/{total}', 'null': '-', 'tau': 'inf',
                        'bound': '- (identity)', 'method': '-', 'generator': '-',
                        'cutoff': '-'})
        else:
            cert = self.certificate.as_row()
            row.update({'kept/total': cert['kept'], 'null': str(cert['null']),
                        'tau': cert['tau'], 'bound': cert['bound'], 'method': cert['method'],
                        'generator': cert['generator'], 'cutoff': cert['cutoff']})
            if self.certificate.is_identity:
                row['bound'] += ' (identity)'
        for column, values in (('asymmetry', self.asymmetry), ('rot90', self.quarter_turn)):
            row[column] = '-' if values is None else \
                f'{100 * values[0]:.0f}%→{100 * values[1]:.0f}%'
        return row


@dataclass(frozen=True)
class UntouchedTensor:
    """A candidate tensor that stays ``θ``: a conv weight, a grid or table a rule matched, or
    a spatial tensor of a ruled backbone that no rule can project (the reason says why)."""

    name: str
    shape: tuple
    reason: str


@dataclass
class ProjectionReport:
    """What ``inject_soft_equivariance`` did to a model."""

    group: str
    model_type: str
    backbones: list = field(default_factory=list)  # [(module path, rule key or 'auto')]
    projected: list = field(default_factory=list)  # [ProjectedTensor] incl. identities
    untouched: list = field(default_factory=list)  # [UntouchedTensor]
    notes: list = field(default_factory=list)  # [str]: decisions such as rules='auto'
    measure: str = ''  # the rotation measure of the asymmetry column, e.g. 'U(-30°,30°)'
    angle_range: tuple = DEFAULT_ANGLE_RANGE  # SO2/O2: the measure's angles (degrees)
    generator: str = ''  # the projectors' generator (what their bound means)

    @property
    def num_projected(self) -> int:
        """Tensors actually re-parameterised (identities excluded)."""
        return sum(not entry.identity for entry in self.projected)

    def projected_names(self) -> list[str]:
        return [entry.name for entry in self.projected if not entry.identity]

    def untouched_by_reason(self) -> Counter:
        return Counter(entry.reason for entry in self.untouched)

    def format(self, verbose: bool = False) -> str:
        """The table, then the untouched summary (every untouched name when ``verbose``)."""
        backbones = ', '.join(f"{path or '<model>'} ({key})" for path, key in self.backbones)
        lines = [f'mmsofteq projection report for {self.model_type} (group {self.group}; '
                 f"ruled backbones: {backbones or 'none'})"]
        lines.extend(self.notes)
        rows = [entry.row(self.group) for entry in self.projected]
        if rows:
            lines.append(text_table(COLUMNS, [[row[col] for col in COLUMNS] for row in rows]))
        identities = len(self.projected) - self.num_projected
        lines.append(f'projected: {self.num_projected} tensor(s); identity (softness 1, not '
                     f'projected): {identities}; left untouched: {len(self.untouched)}')
        if self.measure:
            lines.append(f'asymmetry: of θ → of P·θ, sqrt(Σ_s E_T ‖V_T (T − I) w_s‖² / Σ_s '
                         f'‖w_s‖²) over the slices w_s, T ∼ {self.measure} (the rotated '
                         'evaluation\'s bilinear resampling, compared where the rotated slice '
                         'is defined); rot90: the same under the exact quarter turn')
        if self.generator in BOUND_MEANING:
            lines.append('bound: ' + BOUND_MEANING[self.generator].format(measure=self.measure))
        for reason, count in sorted(self.untouched_by_reason().items()):
            names = [entry.name for entry in self.untouched if entry.reason == reason]
            shown = names if verbose else names[:3]
            more = '' if len(shown) == len(names) else f', ... ({len(names) - len(shown)} more)'
            lines.append(f'  untouched x{count}: {reason}: {", ".join(shown)}{more}')
        return '\n'.join(lines)

    def log(self, logger=None) -> None:
        """Write ``format()`` to ``logger`` (default: the current mmengine logger)."""
        if logger is None:
            from mmengine.logging import MMLogger
            logger = MMLogger.get_current_instance()
        logger.info('\n' + self.format())
