"""The demo figure's helpers: label colours."""
import numpy as np
from softeq_lab.demo.rotated_examples import colorize_labels


def test_colorize_labels_uses_the_palette_and_the_ignore_colour():
    labels = np.array([[0, 1], [255, 7]])
    rgb = colorize_labels(labels, [[0, 0, 0], [128, 0, 0]])
    assert rgb[0, 1].tolist() == [128, 0, 0] and rgb[0, 0].tolist() == [0, 0, 0]
    assert rgb[1, 0].tolist() == [224, 224, 192] and rgb[1, 1].tolist() == [224, 224, 192]
