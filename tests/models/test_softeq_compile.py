"""``torch.compile`` of wrapped models: dynamo traces ``P·θ`` without graph breaks.

Runner-level ``compile=True`` (inductor) also works but takes 60-100 s on two CPU cores, so the
suite checks the graph capture (``fullgraph=True``) and AOT autograd's forward+backward graphs.
"""
import pytest
import torch
from fixtures import tiny_segformer_cfg
from fixtures.tiny_models import classifier, pretrain_resnet
from mmengine.registry import MODELS, init_default_scope

pytestmark = pytest.mark.slow  # real Runner / subprocess runs


def test_segformer_compiles_as_one_graph(tmp_path):
    init_default_scope('mmseg')
    base = tiny_segformer_cfg(tmp_path, tmp_path, num_classes=4, norm_type='BN').model
    torch.manual_seed(0)
    model = MODELS.build(dict(type='mmsofteq.SoftEqModel', model=base,
                              softeq=dict(group='C8', softness=0.5)))
    model.init_weights()
    model.eval()
    x = torch.randn(2, 3, 32, 32)
    torch._dynamo.reset()
    compiled = torch.compile(model, backend='eager', fullgraph=True)
    with torch.no_grad():
        assert torch.allclose(compiled(x, mode='tensor'), model(x, mode='tensor'), atol=1e-6)


def test_classifier_compiled_forward_and_backward_match_eager():
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(dict(type='mmsofteq.SoftEqModel',
                              model=classifier(pretrain_resnet(), channels=64),
                              softeq=dict(group='C4', softness=0.3)))
    model.init_weights()
    x = torch.randn(2, 3, 32, 32)
    theta = model.backbone.conv1._parameters['weight']

    eager = model(x, mode='tensor')
    eager.square().sum().backward()
    eager_grad = theta.grad.clone()
    theta.grad = None

    torch._dynamo.reset()
    compiled = torch.compile(model, backend='aot_eager', fullgraph=True)
    out = compiled(x, mode='tensor')
    out.square().sum().backward()
    assert torch.allclose(out, eager, atol=1e-5)
    assert torch.allclose(theta.grad, eager_grad, rtol=1e-4, atol=1e-6)
    assert eager_grad.abs().sum() > 0
