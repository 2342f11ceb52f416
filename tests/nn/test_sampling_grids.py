"""``mmsofteq.nn.off_centre_layers``: which strided layers sample off the image centre."""
import pytest
import torch
from fixtures.tiny_models import build, mit
from torch import nn

from mmsofteq.nn import grid_offset, off_centre_layers


@pytest.mark.parametrize('size_in, kernel, stride, padding, expected', [
    (32, 7, 4, 3, -1.5),   # SegFormer's stem at 32 px: centres 0, 4, ..., 28 vs centre 15.5
    (33, 7, 4, 3, 0.0),    # 33 px: centres 0, ..., 32, centre 16
    (29, 7, 4, 3, 0.0),
    (8, 3, 2, 1, -0.5),    # 3x3 / 2 on an even map
    (9, 3, 2, 1, 0.0),
    (9, 8, 8, 0, -0.5),    # an 8x8 / 8 reduction on 9 tokens keeps 0..7
])
def test_offset_formula_against_hand_cases(size_in, kernel, stride, padding, expected):
    size_out = (size_in + 2 * padding - kernel) // stride + 1
    assert grid_offset(size_in, size_out, kernel, stride, padding) == expected


@pytest.mark.parametrize('size', [8, 9, 10, 11])
def test_a_centred_grid_is_exactly_what_makes_a_symmetric_strided_conv_commute(size):
    """Independent of the formula: a strided conv with a rot90-invariant kernel commutes with
    torch.rot90 exactly when its grid is centred (and only then, here)."""
    conv = nn.Conv2d(1, 1, 3, stride=2, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]).view(1, 1, 3, 3))
    x = torch.randn(1, 1, size, size, generator=torch.Generator().manual_seed(size))
    commutes = torch.allclose(conv(torch.rot90(x, 1, (2, 3))), torch.rot90(conv(x), 1, (2, 3)),
                              atol=1e-6)
    offsets = off_centre_layers(nn.Sequential(conv), size, channels=1)
    assert commutes == (not offsets)


def test_segformer_patch_embeddings_are_centred_at_33_not_at_32():
    model = build('mmseg', mit())
    at_32 = {offset.name for offset in off_centre_layers(model, 32)}
    at_33 = {offset.name for offset in off_centre_layers(model, 33)}
    assert 'layers.0.0.projection' in at_32 and 'layers.0.0.projection' not in at_33
    assert not any(name.endswith('.0.projection') for name in at_33)
    assert any('.attn.sr' in name for name in at_33)    # the reductions stay off centre
    assert model.training  # the check restores the mode
