"""``mmsofteq.ClsAndMeanPatchNeck`` in the CIFAR DINOv2 paper config: the head sees
``[cls token, mean patch token]`` of the final-normed tokens, as Hugging Face's
``Dinov2ForImageClassification`` (the authors' CIFAR DINOv2 head)."""
import pytest
import torch
from fixtures.config_smoke import load_config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import mmsofteq  # noqa: F401
from mmsofteq.models import ClsAndMeanPatchNeck


def test_hand_case():
    tokens = torch.arange(2 * 4 * 3, dtype=torch.float32).reshape(2, 4, 3)
    (out, ) = ClsAndMeanPatchNeck()((tokens, ))
    expected = torch.cat([tokens[:, 0], tokens[:, 1:].mean(dim=1)], dim=-1)
    assert torch.equal(out, expected) and out.shape == (2, 6)
    with pytest.raises(ValueError, match="out_type='raw'"):
        ClsAndMeanPatchNeck()((torch.zeros(2, 3), ))


def test_the_cifar_dinov2_paper_head_reads_cls_and_mean_patch_tokens():
    cfg = load_config('configs/paper/cifar/dinov2-b14_8xb16-30e_cifar10-paper-224px.py')
    cfg.model.backbone.init_cfg = None
    cfg.model.backbone.arch = dict(embed_dims=48, num_layers=1, num_heads=2,
                                   feedforward_channels=96)
    cfg.model.head.in_channels = 96
    init_default_scope('mmpretrain')  # the config's scope, whatever test ran before
    model = MODELS.build(cfg.model).eval()
    images = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        tokens = model.backbone(images)[-1]  # (2, 1 + 16 x 16, 48), final norm applied
        logits = model(images, mode='tensor')
    assert tokens.shape == (2, 1 + 256, 48)
    features = torch.cat([tokens[:, 0], tokens[:, 1:].mean(dim=1)], dim=-1)
    expected = model.head.fc(features)
    torch.testing.assert_close(logits, expected)
