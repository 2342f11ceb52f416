"""Rotation geometry: convention, exact quarter turns, fills, masks, frames, padding."""
import math

import pytest
import torch
import torchvision.transforms.functional as TF

from mmsofteq.utils.rotation import (content_region, quarter_turns, rotate_field, rotate_label_map,
                                     rotation_sampling_matrix, rotation_valid_mask)


def test_quarter_turns():
    assert [quarter_turns(a) for a in (0, 90, 180, 270, 360, -90, 450)] == [0, 1, 2, 3, 0, 3, 1]
    assert quarter_turns(30.0) is None and quarter_turns(90.001) is None


@pytest.mark.parametrize('angle', [30.0, -17.5, 90.0, 200.0])
@pytest.mark.parametrize('shape', [(3, 12, 20), (2, 15, 9)])
def test_bilinear_matches_torchvision_rotate(angle, shape):
    # torchvision.rotate (bilinear, centre pivot, no expand, zero fill) is the reference.
    field = torch.rand(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    expected = TF.rotate(field, angle, interpolation=TF.InterpolationMode.BILINEAR)
    torch.testing.assert_close(rotate_field(field, angle), expected, rtol=0, atol=1e-12)


def test_nearest_matches_torchvision_rotate_away_from_ties():
    field = torch.rand(1, 12, 20, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    for angle in (17.0, 30.0, -63.0):
        expected = TF.rotate(field, angle, interpolation=TF.InterpolationMode.NEAREST)
        assert torch.equal(rotate_field(field, angle, mode='nearest'), expected)


def test_quarter_turn_is_counter_clockwise_rot90_and_exact():
    field = torch.arange(2 * 6 * 6, dtype=torch.float32).reshape(2, 6, 6)
    for k in range(4):
        assert torch.equal(rotate_field(field, 90.0 * k), torch.rot90(field, k, dims=(-2, -1)))
    tiny = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    assert torch.equal(rotate_field(tiny, 90.0), torch.tensor([[[2.0, 4.0], [1.0, 3.0]]]))


def test_quarter_turn_of_non_square_keeps_centre_square_and_zero_fills():
    height, width = 8, 16
    field = torch.rand(3, height, width, generator=torch.Generator().manual_seed(2))
    rotated = rotate_field(field, 90.0)
    centre = slice(4, 12)
    assert torch.equal(rotated[:, :, centre], torch.rot90(field[:, :, centre], 1, dims=(-2, -1)))
    assert rotated[:, :, :4].abs().max() == 0 and rotated[:, :, 12:].abs().max() == 0
    mask = rotation_valid_mask((height, width), 90.0)
    expected_mask = torch.zeros(height, width, dtype=torch.bool)
    expected_mask[:, centre] = True
    assert torch.equal(mask, expected_mask)


def test_label_rotation_fills_ignore_index_and_keeps_dtype():
    labels = torch.randint(0, 5, (1, 8, 16), generator=torch.Generator().manual_seed(3))
    rotated = rotate_label_map(labels, 90.0, ignore_index=255)
    assert rotated.dtype == labels.dtype
    assert (rotated[..., :4] == 255).all() and (rotated[..., 12:] == 255).all()
    assert torch.equal(rotated[..., 4:12], torch.rot90(labels[..., 4:12], 1, dims=(-2, -1)))
    # generic angle: labels stay labels, out-of-view pixels are exactly the masked ones
    rotated = rotate_label_map(labels, 33.0, ignore_index=255)
    in_view = rotation_valid_mask(labels.shape[-2:], 33.0)
    assert set(rotated.unique().tolist()) <= set(range(5)) | {255}
    assert ((rotated[0] == 255) == ~in_view).all()
    assert 0 < int(in_view.sum()) < in_view.numel()


def test_zero_angle_is_identity_for_any_shape_and_frame():
    field = torch.rand(2, 7, 11)
    assert torch.equal(rotate_field(field, 0.0, frame_hw=(30, 13)), field)
    assert rotation_valid_mask((7, 11), 360.0).all()


def test_rotate_then_unrotate_recovers_the_centre_of_a_smooth_image():
    y, x = torch.meshgrid(torch.linspace(-1, 1, 40), torch.linspace(-1, 1, 40), indexing='ij')
    smooth = torch.sin(2 * x + y)[None].double()
    back = rotate_field(rotate_field(smooth, 23.0), -23.0)
    centre = (slice(12, 28), slice(12, 28))
    assert (back[0][centre] - smooth[0][centre]).abs().max() < 0.02


def _sampled(function, frame_hw, grid_hw):
    """Sample ``function(x_phys, y_phys)`` at the pixel centres of a ``grid_hw`` tensor
    covering a frame of ``frame_hw`` physical pixels (origin at the centre)."""
    frame_h, frame_w = frame_hw
    grid_h, grid_w = grid_hw
    ys = ((torch.arange(grid_h, dtype=torch.float64) + 0.5) / grid_h - 0.5) * frame_h
    xs = ((torch.arange(grid_w, dtype=torch.float64) + 0.5) / grid_w - 0.5) * frame_w
    y, x = torch.meshgrid(ys, xs, indexing='ij')
    return function(x, y)[None]


def test_frame_makes_rotation_physical_for_anisotropically_resized_images():
    """An image resized from 24x40 to 48x48 must be rotated in the 24x40 geometry."""
    frame = (24, 40)

    def scene(x, y):
        return torch.cos(x / 6) + torch.sin(y / 5)

    angle = 30.0
    radians = math.radians(angle)

    def rotated_scene(x, y):  # content rotated counter-clockwise: sample at M p
        return scene(math.cos(radians) * x - math.sin(radians) * y,
                     math.sin(radians) * x + math.cos(radians) * y)

    resized = _sampled(scene, frame, (48, 48))
    ours = rotate_field(resized, angle, frame_hw=frame)
    expected = _sampled(rotated_scene, frame, (48, 48))
    in_view = rotation_valid_mask((48, 48), angle, frame)
    inner = torch.zeros_like(in_view)
    inner[12:36, 12:36] = True
    error = (ours - expected)[0][in_view & inner].abs().max()
    wrong_frame = (rotate_field(resized, angle) - expected)[0][in_view & inner].abs().max()
    assert error < 0.05
    assert wrong_frame > 0.3  # ignoring the frame would be visibly wrong


def test_sampling_matrix_is_a_rotation_in_physical_units():
    theta = rotation_sampling_matrix(90.0, (10, 20))
    expected = torch.tensor([[0.0, -0.5, 0.0], [2.0, 0.0, 0.0]], dtype=torch.float64)
    assert torch.equal(theta, expected)
    with pytest.raises(ValueError, match='positive'):
        rotation_sampling_matrix(10.0, (0, 5))


def test_integer_fields_are_rejected_by_rotate_field():
    with pytest.raises(TypeError, match='rotate_label_map'):
        rotate_field(torch.zeros(1, 4, 4, dtype=torch.long), 10.0)


def test_content_region_from_padding_and_img_shape():
    assert content_region(dict(padding_size=[0, 4, 0, 2]), (16, 16)) == (0, 14, 0, 12)
    assert content_region(dict(img_padding_size=[1, 2, 3, 4], padding_size=[0, 0, 0, 0]),
                          (16, 16)) == (3, 12, 1, 14)
    assert content_region(dict(img_shape=(10, 12)), (16, 16)) == (0, 10, 0, 12)
    assert content_region(dict(), (16, 9)) == (0, 16, 0, 9)
    with pytest.raises(ValueError, match='does not fit'):
        content_region(dict(padding_size=[0, 20, 0, 0]), (16, 16))


# ------------------------------------------------ labels and masks against torchvision's rotate
# docs/evaluation.md: labels rotated by nearest and filled 255; valid pixels = a ones
# image rotated (nearest, fill 0) > 0.5. torchvision's rotate has our convention (centre pivot,
# counter-clockwise for a positive angle, no expand), and its `fill` is that very rule (it
# rotates a ones channel along and fills where it is < 0.5).

GENERIC_ANGLES = [7.5, 23.0, -17.0, 30.0, 141.0]
# A mask from *bilinear* ones > 0.5 would agree with this one off ties: it only differs from
# nearest where a sample point lies beyond the corner pixel centre in both coordinates, and a
# rotation keeps every sample within the half-diagonal, so that happens only when corners map
# onto corners (tan(a/2) = h/w; (9, 31) at 30 degrees comes close and has such ties). Any other
# slip (a threshold other than 0.5, a flipped angle, another fill) differs in the bulk.
LABEL_SHAPES = [(15, 15), (16, 16), (13, 20), (24, 17), (9, 31)]


def sampling_ties(shape, angle, tolerance=1e-4):
    """Bool (h, w): output pixels whose nearest-neighbour source point lies on a pixel
    boundary (a half-integer coordinate), computed from the docstring's M p in float64. Only
    there may two correct float32 implementations pick different neighbours."""
    height, width = shape
    radians = math.radians(angle)
    y, x = torch.meshgrid(torch.arange(height, dtype=torch.float64) - (height - 1) / 2,
                          torch.arange(width, dtype=torch.float64) - (width - 1) / 2,
                          indexing='ij')
    column = math.cos(radians) * x - math.sin(radians) * y + (width - 1) / 2
    row = math.sin(radians) * x + math.cos(radians) * y + (height - 1) / 2

    def on_boundary(coordinate):
        return ((coordinate - coordinate.floor()) - 0.5).abs() < tolerance

    return on_boundary(column) | on_boundary(row)


@pytest.mark.parametrize('shape', LABEL_SHAPES)
@pytest.mark.parametrize('angle', GENERIC_ANGLES)
def test_label_map_and_valid_mask_match_torchvision_nearest_with_fill(shape, angle):
    import torchvision.transforms.v2.functional as F2
    generator = torch.Generator().manual_seed(len(shape) * shape[0] + shape[1])
    labels = torch.randint(0, 21, (1, ) + shape, generator=generator)
    expected = F2.rotate(labels, angle, interpolation=TF.InterpolationMode.NEAREST, fill=255)
    ours = rotate_label_map(labels, angle, ignore_index=255)
    ties = sampling_ties(shape, angle)
    assert ours.dtype == labels.dtype and ours.shape == labels.shape
    assert not (ours != expected)[0][~ties].any()
    assert int((ours != expected).sum()) <= 3  # a few tie pixels at most

    ones = torch.ones(1, *shape)
    expected_mask = TF.rotate(ones, angle, interpolation=TF.InterpolationMode.NEAREST,
                              fill=0)[0] > 0.5
    mask = rotation_valid_mask(shape, angle)
    assert not (mask != expected_mask)[~ties].any()
    assert 0 < int((~mask).sum()) and int(mask.sum()) > 0.3 * mask.numel()
    assert torch.equal(ours[0] == 255, ~mask)  # 255 exactly where out of view (labels < 21)


@pytest.mark.parametrize('shape', [(3, 15, 15), (3, 16, 16), (3, 13, 20)])
@pytest.mark.parametrize('angle', GENERIC_ANGLES)
def test_float32_image_matches_torchvision_bilinear(shape, angle):
    """Images as the loop rotates them (float32). Both sides interpolate between the same
    four neighbours with float32 sampling coordinates: a coordinate off by a few float32 ulps
    (~1e-6 pixel on grids this size) moves a value in [0, 1] by at most ~1e-6 per unit of
    neighbour difference, so 1e-5 is a few times the observed 2e-6 and far below the ~0.1
    differences of nearest sampling, a flipped angle or a shifted pivot."""
    image = torch.rand(shape, generator=torch.Generator().manual_seed(7))
    # fill=None: out-of-view samples read 0 (grid_sample's zero padding), the documented
    # 'fill 0' (docs/evaluation.md). torchvision's fill=0 instead blends border pixels with a
    # bilinearly rotated ones mask (x * mask + (1 - mask) * 0), darkening them a second time.
    expected = TF.rotate(image, angle, interpolation=TF.InterpolationMode.BILINEAR)
    ours = rotate_field(image, angle)
    assert ours.dtype == torch.float32
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-5)
    mirrored = TF.rotate(image, -angle, interpolation=TF.InterpolationMode.BILINEAR)
    assert (ours - mirrored).abs().max() > 0.1
