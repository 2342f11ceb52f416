"""``W_eff = P·θ`` on the module's own Parameter: same objects, same keys, gradients to θ."""
import copy
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fixtures.tiny_models import build, mit, mmseg_vit, pretrain_vit

from mmsofteq.nn import (BUFFER_PREFIX, inject_soft_equivariance, is_swapped,
                         projected_parameters, raw_parameters)
from mmsofteq.projection import invariant_projector


def reference_kernel(theta: torch.Tensor, group: str, softness: float) -> torch.Tensor:
    """``θ P`` per k x k slice in float64, from the math layer's matrix."""
    k = theta.shape[-1]
    matrix = torch.from_numpy(invariant_projector(group, k, softness=softness).matrix)
    return (theta.detach().double().reshape(*theta.shape[:2], k * k) @ matrix).reshape(
        theta.shape)


def test_parameters_keys_and_buffers_unchanged():
    torch.manual_seed(0)
    model = build('mmseg', mit())
    params = [(name, id(p)) for name, p in model.named_parameters()]
    keys = list(model.state_dict())
    inject_soft_equivariance(model, dict(group='C4', softness=0.3), log=False)
    assert [(name, id(p)) for name, p in model.named_parameters()] == params
    assert list(model.state_dict()) == keys
    projector_buffers = [n for n, _ in model.named_buffers() if BUFFER_PREFIX in n]
    assert len(projector_buffers) == len(list(projected_parameters(model))) == 11
    assert not any(BUFFER_PREFIX in key for key in model.state_dict())
    assert type(model).__name__ == 'MixVisionTransformer' and is_swapped(model)


def test_forward_uses_projected_kernel_and_never_writes_theta():
    torch.manual_seed(0)
    model = build('mmseg', mit())
    inject_soft_equivariance(model, dict(group='C8', softness=0.4), log=False)
    conv = model.layers[0][0].projection  # 7x7 overlapping patch embedding
    theta = conv._parameters['weight']
    before = theta.detach().clone()
    expected = reference_kernel(theta, 'C8', 0.4)
    assert torch.allclose(conv.weight.double(), expected, atol=1e-6)
    assert not torch.allclose(conv.weight, theta, atol=1e-3)  # the projection does something
    x = torch.randn(2, 3, 32, 32)
    reference = F.conv2d(x, expected.float(), conv.bias, conv.stride, conv.padding)
    assert torch.allclose(conv(x), reference, atol=1e-5)
    model(x)
    assert torch.equal(theta, before)


def test_gradient_flows_to_theta_through_projector():
    torch.manual_seed(0)
    model = build('mmseg', mit())
    inject_soft_equivariance(model, dict(group='C4', softness=0.0), log=False)
    conv = model.layers[1][0].projection  # 3x3
    x = torch.randn(2, 8, 8, 8)
    w_eff = conv.weight
    w_eff.retain_grad()
    F.conv2d(x, w_eff, conv.bias, conv.stride, conv.padding).square().sum().backward()
    theta = conv._parameters['weight']
    projector = getattr(conv, BUFFER_PREFIX + 'weight')
    expected = (w_eff.grad.flatten(2) @ projector).reshape(theta.shape)
    assert torch.allclose(theta.grad, expected, atol=1e-6)
    assert theta.grad.abs().sum() > 0


def test_position_grid_projection_keeps_cls_token():
    torch.manual_seed(0)
    model = build('mmseg', mmseg_vit())
    model.init_weights()
    inject_soft_equivariance(model, dict(group='SO2', softness=0.5), log=False)
    theta = model._parameters['pos_embed']
    effective = model.pos_embed
    assert effective.shape == theta.shape == (1, 65, 16)
    assert torch.equal(effective[:, 0], theta[:, 0])
    matrix = torch.from_numpy(invariant_projector('SO2', 8, softness=0.5).matrix)
    assert torch.allclose(effective[0, 1:].double(), matrix @ theta[0, 1:].double(), atol=1e-6)
    assert not torch.allclose(effective[:, 1:], theta[:, 1:], atol=1e-3)


def test_init_weights_writes_theta_not_a_temporary():
    torch.manual_seed(0)
    model = build('mmpretrain', pretrain_vit())
    inject_soft_equivariance(model, dict(group='C4', softness=0.0), log=False)
    theta = model._parameters['pos_embed']
    assert theta.abs().max() == 0  # VisionTransformer builds pos_embed as zeros
    # The hazard raw_parameters() exists for: in-place init through the attribute reaches a
    # temporary P·θ, not θ.
    torch.nn.init.normal_(model.pos_embed)
    assert theta.abs().max() == 0
    with raw_parameters():
        assert model.pos_embed is theta
    model.init_weights()  # trunc_normal_(self.pos_embed) inside, wrapped in raw_parameters()
    assert theta.abs().max() > 0
    assert model.pos_embed is not theta


def test_init_weights_of_nested_backbone_writes_theta():
    torch.manual_seed(0)
    model = build('mmseg', dict(type='EncoderDecoder', backbone=mit(),
                                decode_head=dict(type='SegformerHead', in_channels=[8] * 4,
                                                 in_index=[0, 1, 2, 3], channels=8,
                                                 num_classes=3, norm_cfg=dict(type='BN'))))
    inject_soft_equivariance(model, dict(group='C4', softness=0.5), log=False)
    theta = model.backbone.layers[0][0].projection._parameters['weight']
    with torch.no_grad():
        theta.zero_()
    model.backbone.init_weights()  # MiT: normal_init(m) on every Conv2d, via m.weight
    assert theta.abs().max() > 0


def test_deepcopy_and_pickle_keep_the_projection():
    torch.manual_seed(0)
    model = build('mmpretrain', pretrain_vit())
    inject_soft_equivariance(model, dict(group='C4', softness=0.2), log=False)
    model.init_weights()
    model.eval()
    x = torch.randn(2, 3, 32, 32)
    expected = model(x)[0]
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert type(clone) is type(model)
        assert torch.equal(clone(x)[0], expected)
        assert torch.equal(clone.pos_embed, model.pos_embed)
        assert clone._parameters['pos_embed'] is not model._parameters['pos_embed']


def test_dtype_conversion_moves_projectors():
    torch.manual_seed(0)
    model = build('mmseg', mit())
    inject_soft_equivariance(model, dict(group='C4', softness=0.5), log=False)
    model.double()
    conv = model.layers[0][0].projection
    assert getattr(conv, BUFFER_PREFIX + 'weight').dtype == torch.float64
    assert conv.weight.dtype == torch.float64
    # P was stored in float32 at injection, so it carries float32 rounding after .double()
    assert torch.allclose(conv.weight, reference_kernel(conv._parameters['weight'], 'C4', 0.5),
                          atol=1e-6)


@pytest.mark.parametrize('group', ['SO2', 'O2', 'C8', 'D4'])
def test_groups_give_idempotent_symmetric_kernels(group):
    torch.manual_seed(0)
    model = build('mmseg', mit())
    report = inject_soft_equivariance(model, dict(group=group, softness=0.3), log=False)
    assert report.num_projected == 11
    conv = model.layers[0][1][0].attn.sr  # 8x8
    projector = getattr(conv, BUFFER_PREFIX + 'weight').double()
    assert torch.allclose(projector @ projector, projector, atol=1e-6)
    assert torch.allclose(projector, projector.T, atol=1e-9)
    kept = {entry.name: entry.certificate.kept for entry in report.projected}
    assert 0 < kept['layers.0.1.0.attn.sr.weight'] < 64


def test_smooth_cutoff_projection_matches_the_math_layer():
    torch.manual_seed(0)
    model = build('mmseg', mit())
    inject_soft_equivariance(model, dict(group='SO2', softness=0.5, cutoff='smooth',
                                         decay=2.0), log=False)
    conv = model.layers[0][0].projection
    matrix = invariant_projector('SO2', 7, softness=0.5, cutoff='smooth', decay=2.0).matrix
    assert not np.allclose(matrix @ matrix, matrix)  # smooth: not a hard projector
    theta = conv._parameters['weight'].detach().double()
    expected = (theta.reshape(*theta.shape[:2], 49) @ torch.from_numpy(matrix)).reshape(
        theta.shape)
    assert torch.allclose(conv.weight.double(), expected, atol=1e-6)


def test_a_shadowed_parameter_name_is_refused():
    from mmsofteq.nn import KernelProjection, project_parameter

    class PropertyConv(torch.nn.Conv2d):

        @property
        def kernel(self):
            return self._parameters['weight']

    conv = PropertyConv(2, 2, 3)
    conv.register_parameter('kernel_param', torch.nn.Parameter(torch.zeros(1)))
    projector = torch.eye(9)
    with pytest.raises(ValueError, match='no parameter'):
        project_parameter(conv, 'kernel', KernelProjection((3, 3)), projector)
    PropertyConv.kernel_param = property(lambda self: None)
    with pytest.raises(ValueError, match='shadowed by a class or instance attribute'):
        project_parameter(conv, 'kernel_param', KernelProjection((3, 3)), projector)
    assert not is_swapped(conv)
    project_parameter(conv, 'weight', KernelProjection((3, 3)), projector)
    assert is_swapped(conv) and torch.equal(conv.weight, conv._parameters['weight'])


def test_a_tensor_a_wrapper_sets_as_attribute_is_projected_during_forward():
    """What FSDP1 does during forward (its flat parameter's view set in the instance dict,
    where attribute lookup finds it before ``__getattr__``): the pre-hook moves it aside, the
    forward uses ``P·view``, the gradient reaches the view, and the view is put back."""
    torch.manual_seed(0)
    model = build('mmseg', mit())
    inject_soft_equivariance(model, dict(group='C4', softness=0.0), log=False)
    conv = model.layers[0][0].projection
    theta = conv._parameters.pop('weight')
    flat = theta.detach().clone().reshape(-1).requires_grad_()
    view = flat.view(theta.shape)
    object.__setattr__(conv, 'weight', view)          # bypasses nn.Module, as FSDP1 does
    x = torch.randn(1, 3, 32, 32)
    expected = F.conv2d(x, reference_kernel(theta, 'C4', 0.0).float(), conv.bias, conv.stride,
                        conv.padding)
    output = conv(x)
    assert torch.allclose(output, expected, atol=1e-5)
    assert conv.__dict__['weight'] is view            # restored after the forward
    output.sum().backward()
    assert flat.grad is not None and flat.grad.abs().sum() > 0


@pytest.mark.parametrize('replacement', ['flattened shard', 'missing'])
def test_a_sharded_or_missing_theta_inside_forward_fails_loudly(replacement):
    torch.manual_seed(0)
    model = build('mmseg', mit())
    inject_soft_equivariance(model, dict(group='C4', softness=0.5), log=False)
    conv = model.layers[0][0].projection
    theta = conv._parameters['weight']
    if replacement == 'flattened shard':
        conv._parameters['weight'] = torch.nn.Parameter(theta.detach().reshape(-1)[:10].clone())
        message = r'is of shape \(10,\), not the projected \(8, 3, 7, 7\)'
        # outside forward a sharded θ is handed back as it is (a wrapper's bookkeeping)
        assert conv.weight.shape == (10, )
    else:
        del conv._parameters['weight']
        message = 'is missing'
    with pytest.raises(RuntimeError, match=message + r'.*W = P·θ cannot be applied.*Supported'):
        conv(torch.randn(1, 3, 32, 32))
    assert '_softeq_forward_depth' not in conv.__dict__  # the hook state was reset


def test_export_removes_the_forward_hooks():
    from mmsofteq.nn import export_model
    model = build('mmseg', mit())
    inject_soft_equivariance(model, dict(group='C4', softness=0.5), log=False)
    conv = model.layers[0][0].projection
    assert len(conv._forward_pre_hooks) == 1 and len(conv._forward_hooks) == 1
    export_model(model)
    assert not conv._forward_pre_hooks and not conv._forward_hooks
    assert not conv._forward_hooks_always_called
