"""Command-line override of the evaluation angles of a config (for ``tools/test.py``)."""
from __future__ import annotations

from typing import Any

from ..nn.evaluation_angles import AngleSampler, parse_angle_spec
from .config import is_rotated_loop_config


def apply_angle_override(cfg: Any, angles: str) -> None:
    """Set the ``angles`` of every rotated loop in ``cfg.val_cfg``/``cfg.test_cfg`` (in place).

    Args:
        cfg: an mmengine ``Config`` (or dict-like config).
        angles: a spec in the grammar of :func:`parse_angle_spec`::

            uniform:LOW,HIGH   e.g. "uniform:-30,30"  angle ~ U(LOW, HIGH) per sample
            list:A,B,...       e.g. "list:0,90,180,270"  one of the values per sample
            cN                 e.g. "c4"  one of 360 k / N per sample (C_N)
            ...@SEED           e.g. "c4@3"  also set the seed (otherwise the loop's
                               current seed is kept, default 0)

    Raises:
        ValueError: the spec is malformed or invalid (``uniform:30,-30``, ``list:``), or
            neither ``val_cfg`` nor ``test_cfg`` is a ``mmsofteq.RotatedValLoop``/
            ``mmsofteq.RotatedTestLoop``.
    """
    new_angles = parse_angle_spec(angles)
    updated = []
    for key in ('val_cfg', 'test_cfg'):
        loop_cfg = cfg.get(key)
        if not is_rotated_loop_config(loop_cfg):
            continue
        current = AngleSampler.from_config(loop_cfg.get('angles'))
        loop_angles = dict(new_angles)
        loop_angles.setdefault('seed', current.seed)
        loop_cfg['angles'] = loop_angles
        updated.append(key)
    if not updated:
        raise ValueError(
            f'cannot apply angles {angles!r}: neither val_cfg nor test_cfg uses '
            "mmsofteq.RotatedValLoop / mmsofteq.RotatedTestLoop (set e.g. "
            "test_cfg = dict(type='mmsofteq.RotatedTestLoop'))")
