"""Pure rendering of the demo digits: split, labels, boundary band, rotation margin."""
from softeq_lab.digits import render as dd
from softeq_lab.digits.scans import load_digit_scans
import numpy as np
import pytest


@pytest.fixture(scope='module')
def scans_and_digits():
    return load_digit_scans()


def _segmentation_samples(scans, digits, count, seed=0, **kwargs):
    train, _ = dd.split_scans(digits, seed)
    rng = dd.split_rng('seg', 'train', seed)
    stream = dd.ScanStream(train, rng)
    return [dd.compose_segmentation_sample(rng, scans, digits, stream, **kwargs)
            for _ in range(count)]


def test_source_is_the_bundled_uci_digits(scans_and_digits):
    scans, digits = scans_and_digits
    assert scans.shape == (dd.NUM_SCANS, 8, 8) and scans.dtype == np.float32
    assert scans.min() == 0.0 and scans.max() == 1.0
    assert np.array_equal(np.unique(digits), np.arange(10))


def test_split_is_disjoint_complete_stratified_and_seeded(scans_and_digits):
    _, digits = scans_and_digits
    train, val = dd.split_scans(digits, seed=0)
    assert np.intersect1d(train, val).size == 0
    assert np.array_equal(np.union1d(train, val), np.arange(dd.NUM_SCANS))
    for digit in range(10):
        share = np.sum(digits[val] == digit) / np.sum(digits == digit)
        assert abs(share - dd.VAL_FRACTION) < 0.01
    again_train, again_val = dd.split_scans(digits, seed=0)
    assert np.array_equal(train, again_train) and np.array_equal(val, again_val)
    assert not np.array_equal(val, dd.split_scans(digits, seed=1)[1])
    with pytest.raises(ValueError):
        dd.split_scans(digits, seed=0, val_fraction=1.0)


def test_scan_stream_uses_every_scan_once_before_repeating():
    stream = dd.ScanStream([5, 7, 9, 11], np.random.default_rng(0))
    first = [stream.next() for _ in range(4)]
    assert sorted(first) == [5, 7, 9, 11]
    assert sorted(stream.next() for _ in range(4)) == [5, 7, 9, 11]


def test_voc_colormap_known_entries():
    cmap = dd.voc_colormap()
    assert cmap.shape == (256, 3)
    assert cmap[0].tolist() == [0, 0, 0] and cmap[1].tolist() == [128, 0, 0]
    assert cmap[10].tolist() == [64, 128, 0] and cmap[255].tolist() == [224, 224, 192]
    assert [list(rgb) for rgb in dd.DEMO_PALETTE] == cmap[:11].tolist()
    assert len(dd.DEMO_CLASSES) == 11 and dd.DEMO_CLASSES[1 + 7] == 'seven'


def test_labels_match_the_placed_digits(scans_and_digits):
    scans, digits = scans_and_digits
    counts = []
    for image, label, placements in _segmentation_samples(scans, digits, 40):
        assert image.shape == (64, 64, 3) and image.dtype == np.uint8
        assert label.shape == (64, 64) and label.dtype == np.uint8
        assert 1 <= len(placements) <= 3
        expected = {0, 255} | {p.digit + 1 for p in placements}
        assert set(np.unique(label).tolist()) == expected
        assert all(digits[p.scan_id] == p.digit for p in placements)
        assert all(16 <= p.ink_size <= 24 for p in placements)
        counts.append(len(placements))
    assert set(counts) == {1, 2, 3}  # multi-digit canvases do get placed


def test_digit_extents_are_disjoint_and_match_the_label(scans_and_digits):
    scans, digits = scans_and_digits
    for _, label, placements in _segmentation_samples(scans, digits, 30, seed=4):
        claimed = np.zeros(label.shape, dtype=int)
        for p in placements:
            ink, labelled, extent = dd.placement_masks(scans, p, 64, band=1)
            claimed += extent
            assert ink.any() and np.all(label[ink] == p.digit + 1)
            assert np.all(label[labelled & ~ink] == dd.IGNORE_INDEX)
        assert claimed.max() == 1, 'two digits overlap'
        assert np.all(label[claimed == 0] == 0)


def test_boundary_band_is_one_pixel_around_ink_and_optional(scans_and_digits):
    scans, digits = scans_and_digits
    for _, label, _ in _segmentation_samples(scans, digits, 10, boundary=1):
        band = label == dd.IGNORE_INDEX
        ink = (label > 0) & ~band
        assert band.any()
        assert np.all(dd.dilate(ink, 1)[band]), 'band pixel not adjacent to a digit'
        assert not np.any(band & ~dd.dilate(ink, 1))
    for _, label, _ in _segmentation_samples(scans, digits, 10, boundary=0):
        assert dd.IGNORE_INDEX not in label and label.max() >= 1
    for _, label, _ in _segmentation_samples(scans, digits, 5, boundary=3):
        band = label == dd.IGNORE_INDEX
        assert np.all(dd.dilate((label > 0) & ~band, 3)[band])
        assert band.sum() > 0


def _stays_in_view(mask: np.ndarray, degrees: float) -> bool:
    """Whether every pixel centre of ``mask`` stays on the canvas when rotated about its centre."""
    size = mask.shape[0]
    centre = (size - 1) / 2.0
    ys, xs = np.nonzero(mask)
    theta = np.deg2rad(degrees)
    x = np.cos(theta) * (xs - centre) - np.sin(theta) * (ys - centre) + centre
    y = np.sin(theta) * (xs - centre) + np.cos(theta) * (ys - centre) + centre
    return bool(np.all((x >= -0.5) & (x <= size - 0.5) & (y >= -0.5) & (y <= size - 0.5)))


@pytest.mark.parametrize('size, ink_fraction', [(32, None), (64, None), (96, None),
                                                (32, (0.45, 0.65)), (48, (0.6, 0.65))])
def test_every_labelled_pixel_survives_rotations_up_to_30_degrees(scans_and_digits, size,
                                                                  ink_fraction):
    """Also for the largest digits the ink fraction allows (the demo's 32 px canvases)."""
    scans, digits = scans_and_digits
    samples = _segmentation_samples(scans, digits, 25, seed=size, size=size, max_digits=1,
                                    ink_fraction=ink_fraction)
    low, high = dd.ink_size_range(size, 'seg', ink_fraction)
    for _, label, placements in samples:
        assert all(low <= p.ink_size <= high for p in placements)
        assert np.all(label[~dd.rotation_safe_mask(size)] == 0)
        for degrees in (-30.0, -17.5, 12.0, 30.0, 45.0):
            assert _stays_in_view(label > 0, degrees)
    # the check itself can fail: a corner pixel leaves the canvas at 30 degrees
    corner = np.zeros((size, size), dtype=bool)
    corner[0, 0] = True
    assert not _stays_in_view(corner, 30.0)


def test_classification_digit_stays_inside_the_safe_disc(scans_and_digits):
    scans, digits = scans_and_digits
    train, _ = dd.split_scans(digits, 0)
    rng = dd.split_rng('cls', 'train', 0)
    safe = dd.rotation_safe_mask(32)
    for scan_id in train[:80]:
        image, placement = dd.compose_classification_sample(rng, scans, digits, scan_id, size=32)
        assert image.shape == (32, 32, 3) and 14 <= placement.ink_size <= 19
        assert placement.digit == digits[scan_id]
        _, _, extent = dd.placement_masks(scans, placement, 32)
        assert extent.any() and not np.any(extent & ~safe)
        assert _stays_in_view(extent, 30.0) and _stays_in_view(extent, -30.0)


def test_digits_contrast_with_the_background(scans_and_digits):
    scans, digits = scans_and_digits
    weights = np.array([0.299, 0.587, 0.114])
    for image, label, placements in _segmentation_samples(scans, digits, 20, seed=9):
        luma = image.astype(float) @ weights
        background = luma[label == 0].mean()
        for p in placements:
            ink, _, _ = dd.placement_masks(scans, p, 64, band=1)
            core = ink & ~dd.dilate(~ink, 1)  # ink pixels away from the anti-aliased edge
            pixels = luma[core] if core.any() else luma[ink]
            assert abs(pixels.mean() - background) > 40


def test_sample_is_a_function_of_the_random_stream(scans_and_digits):
    scans, digits = scans_and_digits
    first = _segmentation_samples(scans, digits, 3, seed=2)
    second = _segmentation_samples(scans, digits, 3, seed=2)
    other = _segmentation_samples(scans, digits, 3, seed=5)
    for (image_a, label_a, _), (image_b, label_b, _) in zip(first, second):
        assert np.array_equal(image_a, image_b) and np.array_equal(label_a, label_b)
    assert not np.array_equal(first[0][0], other[0][0])


def test_too_small_canvases_are_rejected(scans_and_digits):
    scans, digits = scans_and_digits
    with pytest.raises(ValueError):
        _segmentation_samples(scans, digits, 1, size=16)
    with pytest.raises(ValueError):
        dd.compose_classification_sample(np.random.default_rng(0), scans, digits, 0, size=8)
