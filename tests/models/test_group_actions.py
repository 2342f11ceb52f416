"""``mmsofteq.models.group_actions``: finite groups acting on image tensors."""
import itertools

import pytest
import torch

from mmsofteq.models import EXACT_GROUP_NAMES, finite_group
from mmsofteq.models.group_actions import angles_outside_group, evaluation_angle_warning


@pytest.mark.parametrize('name', EXACT_GROUP_NAMES)
def test_exact_groups_act_as_a_homomorphism_by_pixel_permutation(name):
    group = finite_group(name)
    assert group.exact
    field = torch.randn(2, 3, 6, 6)
    for first, second in itertools.product(range(len(group)), repeat=2):
        assert torch.equal(group.act(group.act(field, second), first),
                           group.act(field, group.compose(first, second))), (first, second)
    for index in range(len(group)):
        assert torch.equal(group.act_inverse(group.act(field, index), index), field)
        assert group.compose(index, group.inverse(index)) == 0


@pytest.mark.parametrize('name', ['C8', 'D6', 'D4'])
def test_multiplication_table_is_a_group(name):
    group = finite_group(name)
    order = len(group)
    for a, b, c in itertools.product(range(order), repeat=3):
        assert group.compose(group.compose(a, b), c) == group.compose(a, group.compose(b, c))
    for index in range(order):
        assert sorted(group.left_permutation(index)) == list(range(order))
    # flips are self-inverse, rotations compose by adding angles
    n = group.rotations
    assert group.compose(1, 1) == 2 % n
    if group.reflection:
        assert all(group.inverse(n + k) == n + k for k in range(n))


def test_element_order_and_labels():
    assert [e.label for e in finite_group('D4').elements] == [
        'identity', 'rot90', 'rot180', 'rot270', 'flip', 'rot90∘flip', 'rot180∘flip',
        'rot270∘flip']
    assert [e.angle for e in finite_group('c8').elements] == [45.0 * k for k in range(8)]
    assert not finite_group('C8').exact and finite_group('D2').exact


def test_rot90_is_counter_clockwise_like_rotate_field():
    field = torch.arange(16.).reshape(1, 4, 4)
    assert torch.equal(finite_group('C4').act(field, 1), torch.rot90(field, 1, dims=(-2, -1)))
    assert torch.equal(finite_group('D1').act(field, 1), torch.flip(field, dims=(-1, )))


@pytest.mark.parametrize('name, exact, message', [
    ('SO2', False, r"finite planar group, one of 'C<n>' or 'D<n>'"),
    ('O2', False, 'finite planar group'),
    ('SO3', False, 'finite planar group'),
    ('Q8', False, r"unknown group 'Q8'.*'C<n>' or 'D<n>'"),
    ('C8', True, r"one of 'C1', 'C2', 'C4', 'D1', 'D2', 'D4'; got 'C8'"),
    ('SO2', True, r"one of 'C1', 'C2', 'C4', 'D1', 'D2', 'D4'"),
])
def test_unsupported_groups_name_the_allowed_ones(name, exact, message):
    with pytest.raises(ValueError, match=message):
        finite_group(name, exact=exact, who='probe')


def test_non_square_fields_are_rejected_only_with_a_quarter_turn():
    with pytest.raises(ValueError, match=r'C4 acts by exact quarter turns.*got 6x8'):
        finite_group('C4').check_field_shape((2, 3, 6, 8), 'probe')
    for name in ('C2', 'D1', 'D2', 'C8'):
        finite_group(name).check_field_shape((6, 8), 'probe')
    finite_group('C4').check_field_shape((8, 8), 'probe')


def test_valid_masks_of_non_quarter_turns():
    group = finite_group('D8')
    assert bool(group.inverse_valid_mask((9, 9), 2).all())            # rot90: exact
    mask = group.inverse_valid_mask((9, 9), 1)                        # rot45
    assert not mask[0, 0] and mask[4, 4] and mask.sum() < 81
    flipped = group.inverse_valid_mask((9, 11), 9)                    # rot45∘flip
    assert torch.equal(flipped, torch.flip(group.inverse_valid_mask((9, 11), 1), dims=(-1, )))


def test_labels_move_with_the_image_and_fill_ignore():
    group = finite_group('C8')
    labels = torch.arange(25).reshape(1, 5, 5)
    assert torch.equal(group.act_on_labels(labels, 2, 255), torch.rot90(labels, 1, (-2, -1)))
    rotated = group.act_on_labels(labels, 1, 255)
    assert rotated[0, 0, 0] == 255 and rotated[0, 2, 2] == 12
    d4 = finite_group('D4')
    for index in range(8):
        assert torch.equal(d4.act_on_labels(d4.act_on_labels(labels, index, 255), index, 255,
                                            inverse=True), labels)


@pytest.mark.parametrize('angles, outside', [
    (dict(kind='uniform', low=-30.0, high=30.0, seed=0), [-30.0, 30.0]),
    (None, [-30.0, 30.0]),  # the rotated loops' default angles
    (dict(kind='uniform', low=90.0, high=90.0, seed=0), []),
    (dict(kind='cyclic', order=4, seed=0), []),
    (dict(kind='cyclic', order=2, seed=0), []),
    (dict(kind='cyclic', order=8, seed=0), [45.0, 135.0, 225.0, 315.0]),
    (dict(kind='list', values=[0, -90, 270, 10], seed=0), [10.0]),
])
def test_evaluation_angles_outside_the_group(angles, outside):
    group = finite_group('C4')
    assert angles_outside_group(group, angles) == outside
    message = evaluation_angle_warning(group, angles, 'probe')
    assert (message is None) == (not outside)
    if outside:
        assert 'multiples of 90°' in message and "kind='cyclic', order=4" in message
