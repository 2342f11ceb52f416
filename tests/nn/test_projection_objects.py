"""The projection objects (``mmsofteq.nn.projections``): what they refuse, and where they say
``P`` acts (hand cases)."""
import pytest

from mmsofteq.nn.projections import (PROJECTIONS, GridProjection, KernelProjection,
                                     OffsetGridProjection)


@pytest.mark.parametrize('build', [
    lambda: GridProjection(1),            # a prefix count given where the grid goes
    lambda: OffsetGridProjection(49),     # a row count given where the window goes
    lambda: KernelProjection((3, 0)),
    lambda: KernelProjection((3, 3, 3)),
    lambda: GridProjection((14.0, 14), 1),
])
def test_a_projection_refuses_anything_but_an_h_w_grid(build):
    with pytest.raises(ValueError, match=r'grid must be \(h, w\) of positive ints'):
        build()


def test_each_rule_target_names_its_class_and_side():
    assert {target: (cls, cls.side) for target, cls in PROJECTIONS.items()} == {
        'kernel': (KernelProjection, 'kernel'), 'pos_grid': (GridProjection, 'data'),
        'offset_grid': (OffsetGridProjection, 'data')}
