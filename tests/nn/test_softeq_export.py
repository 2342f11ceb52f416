"""``export_model`` (the re-parameterisation's exit) and eval-mode caching of ``P·θ``."""
import copy

import pytest
import torch
from fixtures.tiny_models import build, mit, mmseg_vit, pretrain_vit

from mmsofteq.nn import (BUFFER_PREFIX, export_model, inject_soft_equivariance, is_swapped,
                         softeq_config)


def injected(scope, cfg, softeq, seed=0):
    torch.manual_seed(seed)
    model = build(scope, cfg)
    inject_soft_equivariance(model, softeq, log=False)
    model.init_weights()
    return model


def test_export_of_a_copy_replaces_only_projected_tensors():
    torch.manual_seed(0)
    model = build('mmseg', mmseg_vit())
    inject_soft_equivariance(model, dict(group='C4', softness=0.5), log=False)
    model.init_weights()
    plain = model.state_dict()
    effective = export_model(copy.deepcopy(model)).state_dict()
    assert list(effective) == list(plain)
    changed = sorted(key for key in plain if not torch.equal(plain[key], effective[key]))
    assert changed == ['patch_embed.projection.weight', 'pos_embed']
    assert torch.equal(effective['pos_embed'], model.pos_embed)
    assert effective['pos_embed'].grad_fn is None


@pytest.mark.parametrize('scope, cfg', [('mmseg', mit()), ('mmseg', mmseg_vit()),
                                        ('mmpretrain', pretrain_vit())])
def test_export_writes_p_theta_restores_classes_and_keeps_outputs(scope, cfg):
    model = injected(scope, cfg, dict(group='C8', softness=0.4))
    model.eval()  # (mmseg's ViT.train() returns None, so no chaining)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = model(x)
    effective = export_model(copy.deepcopy(model)).state_dict()
    parameters = [(name, id(p)) for name, p in model.named_parameters()]
    base_types = {name: type(module).__bases__[-1] for name, module in model.named_modules()
                  if is_swapped(module)}
    assert export_model(model) is model
    assert not any(is_swapped(module) for module in model.modules())
    assert {name: type(module) for name, module in model.named_modules()
            if name in base_types} == base_types
    assert [(name, id(p)) for name, p in model.named_parameters()] == parameters
    assert not any(BUFFER_PREFIX in name for name, _ in model.named_buffers())
    assert softeq_config(model) is None
    state = model.state_dict()
    assert list(state) == list(effective)
    assert all(torch.equal(state[key], effective[key]) for key in state)
    with torch.no_grad():
        outputs = model(x)
    expected, outputs = (t if isinstance(t, (tuple, list)) else [t] for t in (expected, outputs))
    assert all(torch.equal(a, b) for a, b in zip(expected, outputs))
    # a plain model again: a new injection works on the exported weights
    inject_soft_equivariance(model, dict(group='C4', softness=0.0), log=False)


def test_export_of_a_plain_model_changes_nothing():
    torch.manual_seed(0)
    model = build('mmseg', mit())
    before = {key: value.clone() for key, value in model.state_dict().items()}
    export_model(model)
    assert all(torch.equal(before[key], value) for key, value in model.state_dict().items())


def test_eval_mode_computes_p_theta_once_until_theta_changes_or_train():
    model = injected('mmseg', mit(), dict(group='C8', softness=0.4))
    model.eval()
    conv = model.layers[0][0].projection
    theta = conv._parameters['weight']
    with torch.no_grad():
        first = conv.weight
        assert conv.weight is first                        # cached, not recomputed
        theta.add_(1.0)                                    # optimizer-like in-place update
        updated = conv.weight
        assert updated is not first
        expected = (theta.flatten(2) @ getattr(conv, BUFFER_PREFIX + 'weight')).reshape(
            theta.shape)
        assert torch.equal(updated, expected)
        model.load_state_dict({key: value + 1 for key, value in model.state_dict().items()})
        assert conv.weight is not updated                  # load_state_dict copies in place
    model.train()
    assert '_softeq_cache' not in conv.__dict__
    with torch.no_grad():
        assert conv.weight is not conv.weight              # training mode: never cached
    model.eval()
    projected = conv.weight                                # grad enabled and θ trainable:
    assert projected.grad_fn is not None                   # a fresh graph every access
    assert conv.weight is not projected


def test_cached_eval_outputs_equal_uncached_ones():
    model = injected('mmpretrain', pretrain_vit(), dict(group='SO2', softness=0.5))
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        model.train()
        uncached = model(x)
        model.eval()
        cached_first, cached_second = model(x), model(x)
    assert all(torch.equal(a, b) for a, b in zip(uncached, cached_first))
    assert all(torch.equal(a, b) for a, b in zip(cached_first, cached_second))


def test_parametrize_would_rename_the_state_dict_keys():
    """Why the class swap and not ``torch.nn.utils.parametrize``: parametrize moves the
    weight to ``parametrizations.weight.original``, so base checkpoints would not load."""
    from torch.nn.utils import parametrize

    class Project(torch.nn.Module):
        def forward(self, weight):
            return weight

    conv = torch.nn.Conv2d(2, 2, 3)
    parametrize.register_parametrization(conv, 'weight', Project())
    assert 'weight' not in conv.state_dict()
    assert 'parametrizations.weight.original' in conv.state_dict()
