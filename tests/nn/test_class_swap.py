"""``mmsofteq.nn.class_swap``: the one class-swap engine of re-parameterised modules and
wrapper models (names kept, one class per pair, stacked swaps, pickling, swap_out)."""
import copy
import pickle

import torch
from torch import nn

from mmsofteq.nn import export_model, is_swapped
from mmsofteq.nn.class_swap import (SwappableMixin, class_stack, swap_in, swap_out,
                                    swapped_class)
from mmsofteq.nn.projections import KernelProjection
from mmsofteq.nn.reparam import project_parameter


class Doubling(SwappableMixin):
    def forward(self, inputs):
        return 2 * super().forward(inputs)


class Shifting(SwappableMixin):
    def forward(self, inputs):
        return super().forward(inputs) + 1


class InitialisedConv(nn.Conv2d):
    """A conv whose ``init_weights`` writes its weight in place (as mmengine modules do)."""

    def init_weights(self):
        with torch.no_grad():
            self.weight.fill_(1.0)


def test_swapped_class_keeps_the_name_and_is_made_once_per_pair():
    layer = nn.Linear(2, 2)
    swap_in(layer, Doubling)
    assert type(layer).__name__ == 'Linear' and type(layer).__module__ == nn.Linear.__module__
    assert isinstance(layer, nn.Linear) and isinstance(layer, Doubling)
    assert type(layer) is swapped_class(Doubling, nn.Linear)
    assert swap_in(layer, Doubling) is layer and type(layer) is swapped_class(Doubling, nn.Linear)
    assert class_stack(type(layer)) == (nn.Linear, (Doubling, ))


def test_stacked_swaps_pickle_deep_copy_and_swap_out_in_any_order():
    torch.manual_seed(0)
    layer = swap_in(swap_in(nn.Linear(2, 2), Doubling), Shifting)
    inputs = torch.randn(3, 2)
    expected = 2 * nn.functional.linear(inputs, layer.weight, layer.bias) + 1
    assert torch.allclose(layer(inputs), expected)
    for clone in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        assert type(clone) is type(layer) and torch.allclose(clone(inputs), expected)
    swap_out(layer, Doubling)  # the inner one: the outer mixin stays
    assert class_stack(type(layer)) == (nn.Linear, (Shifting, ))
    assert torch.allclose(layer(inputs), expected - nn.functional.linear(
        inputs, layer.weight, layer.bias))
    swap_out(layer, Shifting)
    assert type(layer) is nn.Linear


def test_projected_module_under_another_swap_inits_theta_pickles_and_exports():
    conv = InitialisedConv(1, 1, 3)
    project_parameter(conv, 'weight', KernelProjection((3, 3)), torch.full((9, 9), 1 / 9))
    swap_in(conv, Shifting)
    conv.init_weights()  # runs inside raw_parameters(): writes θ, no recursion
    assert torch.equal(conv._parameters['weight'], torch.ones(1, 1, 3, 3))
    clone = pickle.loads(pickle.dumps(conv))
    assert type(clone) is type(conv) and is_swapped(clone)
    assert torch.equal(clone.weight, conv.weight)
    export_model(conv)
    assert not is_swapped(conv) and class_stack(type(conv)) == (InitialisedConv, (Shifting, ))
