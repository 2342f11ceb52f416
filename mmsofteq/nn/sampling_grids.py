"""Is a model's sampling grid symmetric about the image centre at a given input size?

A layer with kernel ``k``, stride ``t``, padding ``p`` and dilation ``d`` on an ``s``-pixel axis
samples its outputs at the input positions ``c_i = t·i − p + d(k − 1)/2``, ``i = 0 … n − 1``.
The grid maps onto itself under the quarter turn (and a rotation about the centre moves
features onto rotated features) only if it is symmetric about the centre ``(s − 1)/2``:

    c_0 + c_{n−1} = s − 1   ⇔   t(n − 1) − 2p + d(k − 1) = s − 1.

Otherwise the layer's outputs sit ``offset = (c_0 + c_{n−1} − (s − 1))/2`` input pixels off
centre, and a network can be at most approximately equivariant there, whatever its weights
(``docs/math.md`` §4). :func:`off_centre_layers` runs one forward pass with hooks on every
``Conv2d`` / ``MaxPool2d`` / ``AvgPool2d`` and lists the layers whose grid is off centre.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List

import torch
from torch import nn

POOLS = (nn.MaxPool2d, nn.AvgPool2d)


@dataclass(frozen=True)
class GridOffset:
    """One off-centre layer: its name, input and output size (rows, cols), and the offset of
    its output grid from the input's centre in input pixels (rows, cols)."""

    name: str
    input_size: tuple
    output_size: tuple
    offset: tuple

    def describe(self) -> str:
        return (f'{self.name}: {self.input_size[0]}x{self.input_size[1]} -> '
                f'{self.output_size[0]}x{self.output_size[1]}, grid off centre by '
                f'{self.offset[0]:g}/{self.offset[1]:g} px (rows/cols)')


def _pair(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def grid_offset(size_in: int, size_out: int, kernel: int, stride: int, padding: int,
                dilation: int = 1) -> float:
    """``(c_0 + c_{n−1} − (s − 1)) / 2`` in input pixels (0: centred); see the module
    docstring."""
    return (stride * (size_out - 1) - 2 * padding + dilation * (kernel - 1) - (size_in - 1)) / 2


def off_centre_layers(model: nn.Module, input_size: int, channels: int = 3) -> List[GridOffset]:
    """The ``Conv2d`` / pooling layers of ``model`` whose sampling grid is not symmetric about
    the image centre for a square ``input_size`` input (one forward pass of zeros in eval
    mode, ``mode='tensor'`` for mmseg/mmpretrain models, hooks on every such layer).

    Raises:
        ValueError: a layer uses string padding ('same') or a non-int size.
    """
    offsets: List[GridOffset] = []
    handles = []

    def hook(name):
        def record(module, inputs, output):
            size_in, size_out = inputs[0].shape[-2:], output.shape[-2:]
            kernel, stride = _pair(module.kernel_size), _pair(module.stride or module.kernel_size)
            padding, dilation = _pair(module.padding), _pair(getattr(module, 'dilation', 1))
            if any(isinstance(p, str) for p in padding):
                raise ValueError(f'{name}: string padding {module.padding!r} is not supported')
            offset = tuple(grid_offset(int(size_in[a]), int(size_out[a]), kernel[a], stride[a],
                                       padding[a], dilation[a]) for a in (0, 1))
            if any(value != 0 for value in offset):
                offsets.append(GridOffset(name, tuple(int(s) for s in size_in),
                                          tuple(int(s) for s in size_out), offset))
        return record

    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, ) + POOLS):
            handles.append(module.register_forward_hook(hook(name)))
    training = model.training
    try:
        model.eval()
        inputs = torch.zeros(1, channels, input_size, input_size)
        with torch.no_grad():
            try:
                model(inputs, mode='tensor')
            except TypeError:
                model(inputs)
    finally:
        for handle in handles:
            handle.remove()
        model.train(training)
    return offsets
