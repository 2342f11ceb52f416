"""Mixed precision with projected weights.

mmengine's ``AmpOptimWrapper`` asserts a CUDA device, so on CPU the test runs the wrapped
model's real ``train_step`` inside the context ``AmpOptimWrapper.optim_context`` enters
(``mmengine.runner.amp.autocast``, bf16 on CPU). With a CUDA device, a Runner trains with
``AmpOptimWrapper`` itself.
"""
import copy

import pytest
import torch
from fixtures.tiny_models import softeq_segformer_cfg
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import Runner
from mmengine.runner.amp import autocast
from mmengine.structures import PixelData

from mmsofteq.nn import BUFFER_PREFIX

pytestmark = pytest.mark.slow  # real Runner / subprocess runs

SOFTEQ = dict(group='C8', softness=0.5)


def batch(size=32, num_classes=4):
    from mmseg.structures import SegDataSample
    generator = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(2):
        inputs.append(torch.randint(0, 256, (3, size, size), generator=generator,
                                    dtype=torch.uint8))
        sample = SegDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size)))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, num_classes, (1, size, size),
                                                         generator=generator))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def test_bf16_autocast_train_step_on_cpu(tmp_path):
    init_default_scope('mmseg')
    cfg = softeq_segformer_cfg(tmp_path, 'wrapper', SOFTEQ, norm_type='BN')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    reference = copy.deepcopy(model)
    conv = model.backbone.layers[0][0].projection
    theta = conv._parameters['weight']
    before = theta.detach().clone()
    seen = {}
    conv.register_forward_hook(
        lambda module, args, out: seen.update(weight=module.weight.dtype, out=out.dtype))

    def step(net):
        wrapper = OptimWrapper(torch.optim.SGD(net.parameters(), lr=0.1))
        return net.train_step(batch(), wrapper)

    with autocast(device_type='cpu', dtype=torch.bfloat16):
        losses = step(model)
    assert seen == dict(weight=torch.bfloat16, out=torch.bfloat16)
    assert theta.dtype == torch.float32 and torch.isfinite(theta).all()
    assert not torch.equal(theta, before)
    projector = getattr(conv, BUFFER_PREFIX + 'weight')
    assert torch.equal(conv.weight, (theta.flatten(2) @ projector).reshape(theta.shape))

    fp32_losses = step(reference)
    assert torch.isclose(losses['loss'], fp32_losses['loss'], rtol=0.05)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='AmpOptimWrapper needs a CUDA device')
@pytest.mark.parametrize('mode', ['wrapper', 'hook'])
def test_amp_optim_wrapper_on_cuda(tmp_path, mode):
    cfg = softeq_segformer_cfg(tmp_path, mode, SOFTEQ, max_iters=2, norm_type='BN')
    cfg.optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16',
                             optimizer=cfg.optim_wrapper.optimizer)
    runner = Runner.from_cfg(cfg)
    runner.train()
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    conv = model.backbone.layers[0][0].projection
    assert getattr(conv, BUFFER_PREFIX + 'weight').is_cuda
    assert all(torch.isfinite(p).all() for p in model.parameters())
