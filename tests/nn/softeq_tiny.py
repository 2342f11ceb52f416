"""Tiny real OpenMMLab models and helpers shared by the mmsofteq injection tests.

All models are the genuine mmseg / mmpretrain classes at small widths so the suite runs on two
CPU cores; nothing is mocked.
"""
from __future__ import annotations

import importlib.util
import os
import os.path as osp
import subprocess
import sys

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PYTHON = sys.executable


def mit(**kwargs) -> dict:
    """mmseg MixVisionTransformer (SegFormer), 4 stages of 1 layer."""
    return dict(dict(type='MixVisionTransformer', embed_dims=8, num_layers=[1, 1, 1, 1],
                     num_heads=[1, 1, 1, 1]), **kwargs)


def mmseg_vit(**kwargs) -> dict:
    """mmseg VisionTransformer on 32x32 inputs with 4x4 patches (8x8 grid + cls token)."""
    return dict(dict(type='VisionTransformer', img_size=(32, 32), patch_size=4, embed_dims=16,
                     num_layers=1, num_heads=2, mlp_ratio=2, out_indices=(0, )), **kwargs)


def mmseg_resnet(**kwargs) -> dict:
    """mmseg ResNetV1c-18 (deep 3x3 stem) at width 8."""
    return dict(dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=8), **kwargs)


def pretrain_vit(**kwargs) -> dict:
    """mmpretrain VisionTransformer, custom tiny arch (4x4 patches on 32x32: 8x8 grid)."""
    return dict(dict(type='VisionTransformer', img_size=32, patch_size=4,
                     arch=dict(embed_dims=16, num_layers=1, num_heads=2,
                               feedforward_channels=32)), **kwargs)


def pretrain_resnet(**kwargs) -> dict:
    """mmpretrain ResNet-18 (7x7 stem) at width 8."""
    return dict(dict(type='ResNet', depth=18, stem_channels=8, base_channels=8), **kwargs)


def build(scope: str, cfg: dict) -> torch.nn.Module:
    """Build ``cfg`` in ``scope`` ('mmseg' or 'mmpretrain'), which becomes the default scope
    (mmengine builds nested configs in the default scope's registry)."""
    from mmengine.registry import MODELS, init_default_scope
    init_default_scope(scope)
    return MODELS.build(cfg)


def classifier(backbone: dict, channels: int, num_classes: int = 5) -> dict:
    """mmpretrain ImageClassifier; ``channels`` = backbone output width."""
    neck = None if backbone['type'] == 'VisionTransformer' else dict(type='GlobalAveragePooling')
    return dict(type='ImageClassifier', backbone=backbone, neck=neck,
                head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=channels,
                          loss=dict(type='CrossEntropyLoss')))


def run_python(code: str, *, env_extra: dict | None = None, timeout: int = 300,
               cwd: str = REPO) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter of this venv; raises with its output on failure."""
    env = dict(os.environ)
    env.pop('PYTHONPATH', None)
    env.update(env_extra or {})
    result = subprocess.run([PYTHON, '-c', code], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f'subprocess failed ({result.returncode}):\n{result.stdout[-4000:]}'
                             f'\n{result.stderr[-4000:]}')
    return result


def load_tool(name: str):
    """Import ``tools/<name>.py`` as a module (its ``main(argv)`` runs in this process)."""
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def softeq_segformer_cfg(tmp_path, mode: str, softeq: dict, *, work_dir: str = 'work',
                         num_images: int = 4, **kwargs):
    """``fixtures.tiny_segformer_cfg`` on a tiny VOC under ``tmp_path``, with soft equivariance
    through the wrapper (``mode='wrapper'``) or the hook (``mode='hook'``)."""
    from fixtures import make_tiny_voc, tiny_segformer_cfg

    data_root = make_tiny_voc(tmp_path / 'voc', num_images=num_images, size=32, num_classes=4)
    cfg = tiny_segformer_cfg(data_root, tmp_path / work_dir, num_classes=4, **kwargs)
    if mode == 'wrapper':
        cfg.model = dict(type='mmsofteq.SoftEqModel', model=cfg.model, softeq=softeq)
    elif mode == 'hook':
        cfg.custom_hooks = [dict(type='mmsofteq.SoftEqHook', softeq=softeq)]
    else:
        raise ValueError(f"mode must be 'wrapper' or 'hook', got {mode!r}")
    cfg.custom_imports = dict(imports=['mmsofteq'], allow_failed_imports=False)
    return cfg
