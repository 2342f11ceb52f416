"""Tiny on-disk datasets, small real models and Runner builders for the evaluation tests.

Nothing is mocked: datasets are real PNG/JPEG files read by mmseg's ``PascalVOCDataset``
and mmpretrain's ``CustomDataset``; models are mmseg ``EncoderDecoder`` / mmpretrain
``ImageClassifier`` with real heads and preprocessors. The only test-made parts are two
backbones whose equivariance is known by construction:

* :class:`PointwiseBackbone` (1x1 convs): commutes exactly with 90-degree rotations;
* :class:`ShiftedBackbone` (reads the pixel one step to the right): does not.
"""
from __future__ import annotations

import os
import os.path as osp
import uuid
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.hooks import Hook
from mmengine.model import BaseModule
from mmpretrain.models import ImageClassifier
from mmseg.models import EncoderDecoder
from PIL import Image

NUM_VOC_CLASSES = 21
MEAN = [120.0, 110.0, 100.0]
STD = [60.0, 55.0, 50.0]


# ----------------------------------------------------------------------------- backbones
class PointwiseBackbone(BaseModule):
    """``x -> (tanh(W x + b),)`` with a 1x1 conv: exactly rotation-equivariant per pixel."""

    def __init__(self, in_channels: int = 3, out_channels: int = 8) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(in_channels, out_channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        return (torch.tanh(self.conv(x)), )


class ShiftedBackbone(PointwiseBackbone):
    """Pointwise features of the image shifted left by one pixel (zero-filled): output at
    ``(i, j)`` reads input ``(i, j + 1)``, so it is *not* rotation-equivariant."""

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        shifted = F.pad(x[..., :, 1:], (0, 1, 0, 0))
        return (torch.tanh(self.conv(shifted)), )


def randomize_(model: torch.nn.Module, seed: int, scale: float = 1.0) -> torch.nn.Module:
    """Overwrite every parameter with seeded N(0, scale^2) values (diverse predictions)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * scale)
    return model


# ----------------------------------------------------------------------------- datasets
def random_label_map(height: int, width: int, rng: np.random.Generator,
                     classes: Sequence[int] = (0, 1, 2, 3)) -> np.ndarray:
    """Background ``classes[0]`` with random rectangles of the other classes, a 255 outline
    (VOC's ignore) around each rectangle."""
    labels = np.full((height, width), classes[0], np.uint8)
    for cls in classes[1:]:
        h = int(rng.integers(2, max(3, height // 2)))
        w = int(rng.integers(2, max(3, width // 2)))
        top = int(rng.integers(0, height - h))
        left = int(rng.integers(0, width - w))
        labels[top:top + h, left:left + w] = 255
        labels[top + 1:top + h - 1, left + 1:left + w - 1] = cls
    return labels


def write_voc(root: str, sizes: Sequence[Tuple[int, int]], seed: int = 0,
              labels: Optional[Sequence[np.ndarray]] = None) -> str:
    """Write a PASCAL-VOC-layout dataset; ``sizes`` are ``(height, width)`` per image.

    Images are noisy colour JPEGs; labels are uint8 PNGs (``labels`` given, or random
    rectangles). ``val.txt`` lists every image in order. Returns ``root``.
    """
    rng = np.random.default_rng(seed)
    for sub in ('JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    names = []
    for i, (height, width) in enumerate(sizes):
        name = f'img_{i:03d}'
        names.append(name)
        label = labels[i] if labels is not None else random_label_map(height, width, rng)
        assert label.shape == (height, width)
        image = rng.integers(0, 256, (height, width, 3)).astype(np.uint8)
        image[label == 1] //= 3
        Image.fromarray(image).save(osp.join(root, 'JPEGImages', f'{name}.jpg'), quality=95)
        Image.fromarray(label.astype(np.uint8)).save(
            osp.join(root, 'SegmentationClass', f'{name}.png'))
    with open(osp.join(root, 'ImageSets/Segmentation/val.txt'), 'w') as file:
        file.write('\n'.join(names) + '\n')
    return root


def read_voc_labels(root: str) -> List[np.ndarray]:
    """The label maps of :func:`write_voc`, in ``val.txt`` order."""
    with open(osp.join(root, 'ImageSets/Segmentation/val.txt')) as file:
        names = file.read().split()
    return [np.array(Image.open(osp.join(root, 'SegmentationClass', f'{n}.png'))) for n in names]


def write_image_folder(root: str, num_classes: int, per_class: int,
                       sizes: Sequence[Tuple[int, int]], seed: int = 0) -> str:
    """Write ``root/class_k/NNN.png`` noisy RGB images (mmpretrain ``CustomDataset``
    layout); image ``i`` of a class has size ``sizes[i % len(sizes)]`` (height, width)."""
    rng = np.random.default_rng(seed)
    for cls in range(num_classes):
        os.makedirs(osp.join(root, f'class_{cls}'), exist_ok=True)
        for i in range(per_class):
            image = rng.integers(0, 256, (*sizes[i % len(sizes)], 3)).astype(np.uint8)
            image[..., cls % 3] = image[..., cls % 3] // 4
            Image.fromarray(image).save(osp.join(root, f'class_{cls}', f'{i:03d}.png'))
    return root


# ----------------------------------------------------------------------------- models
def segmentor_cfg(backbone: dict, feature_channels: int = 8,
                  preprocessor_test_cfg: Optional[dict] = None,
                  test_cfg: Optional[dict] = None) -> dict:
    """mmseg ``EncoderDecoder`` with a 1x1 ``FCNHead`` (``num_convs=0``) on ``backbone``."""
    preprocessor = dict(type='SegDataPreProcessor', mean=MEAN, std=STD, bgr_to_rgb=True,
                        pad_val=0, seg_pad_val=255)
    if preprocessor_test_cfg is not None:
        preprocessor['test_cfg'] = preprocessor_test_cfg
    return dict(
        type='EncoderDecoder',
        data_preprocessor=preprocessor,
        backbone=backbone,
        decode_head=dict(type='FCNHead', in_channels=feature_channels,
                         channels=feature_channels, num_convs=0, concat_input=False,
                         dropout_ratio=0.0, num_classes=NUM_VOC_CLASSES, in_index=-1,
                         norm_cfg=None, align_corners=False,
                         loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        train_cfg=dict(),
        test_cfg=test_cfg or dict(mode='whole'))


def tiny_segformer_cfg() -> dict:
    """A real (tiny) mmseg SegFormer: MiT backbone + ``SegformerHead``."""
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=MEAN, std=STD,
                               bgr_to_rgb=True, pad_val=0, seg_pad_val=255),
        backbone=dict(type='MixVisionTransformer', in_channels=3, embed_dims=8,
                      num_stages=4, num_layers=[1, 1, 1, 1], num_heads=[1, 1, 2, 2],
                      patch_sizes=[7, 3, 3, 3], sr_ratios=[8, 4, 2, 1], out_indices=(0, 1, 2, 3),
                      mlp_ratio=2, qkv_bias=True, drop_rate=0.0, attn_drop_rate=0.0,
                      drop_path_rate=0.0),
        decode_head=dict(type='SegformerHead', in_channels=[8, 8, 16, 16],
                         in_index=[0, 1, 2, 3], channels=16, dropout_ratio=0.0,
                         num_classes=NUM_VOC_CLASSES, norm_cfg=dict(type='BN'),
                         align_corners=False,
                         loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


def restrict_predictions_(segmentor: torch.nn.Module, num_classes: int = 4) -> torch.nn.Module:
    """Push the logits of classes >= ``num_classes`` down by 20 so a random toy segmentor
    predicts the classes the fixtures' labels use (meaningful, non-zero IoUs)."""
    with torch.no_grad():
        segmentor.decode_head.conv_seg.bias[num_classes:] -= 20.0
    return segmentor


def _initialise(model: torch.nn.Module, seed: int, scale: Optional[float]) -> torch.nn.Module:
    """``scale=None``: the model's own ``init_weights`` under ``torch.manual_seed(seed)``
    (deep models); else :func:`randomize_` (toy models)."""
    if scale is None:
        torch.manual_seed(seed)
        model.init_weights()
    else:
        randomize_(model, seed, scale)
    return model.eval()


def build_segmentor(cfg: dict, seed: int = 0, scale: Optional[float] = 1.0) -> torch.nn.Module:
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    torch.manual_seed(seed)  # construction-time init of modules init_weights leaves alone
    with DefaultScope.overwrite_default_scope('mmseg'):
        return _initialise(MODELS.build(ConfigDict(cfg)), seed, scale)


def classifier_cfg(backbone: dict, feature_channels: int, num_classes: int) -> dict:
    """mmpretrain ``ImageClassifier``: backbone, global average pooling, linear head."""
    return dict(
        type='ImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor', mean=MEAN, std=STD, to_rgb=True,
                               num_classes=num_classes),
        backbone=backbone,
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=feature_channels,
                  loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))


def tiny_resnet_cfg(num_classes: int) -> dict:
    """A real (narrow) mmpretrain ResNet-18 classifier."""
    return classifier_cfg(
        dict(type='ResNet', depth=18, stem_channels=8, base_channels=8, out_indices=(3, ),
             norm_cfg=dict(type='BN')), feature_channels=64, num_classes=num_classes)


def build_classifier(cfg: dict, seed: int = 0, scale: Optional[float] = 1.0) -> torch.nn.Module:
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return _initialise(MODELS.build(ConfigDict(cfg)), seed, scale)


# ----------------------------------------------------------------------------- runners
def segmentation_dataloader(data_root: str, batch_size: int = 1,
                            resize: Optional[Tuple[int, int]] = None,
                            keep_ratio: bool = True, flip: bool = False,
                            labels_before_resize: bool = False) -> dict:
    """mmseg test dataloader. ``flip`` adds ``RandomFlip(prob=1)``; ``labels_before_resize``
    loads labels before ``Resize`` so they get resized too (a misconfiguration)."""
    pipeline: List[dict] = [dict(type='LoadImageFromFile')]
    if labels_before_resize:
        pipeline.append(dict(type='LoadAnnotations'))
    if resize is not None:
        pipeline.append(dict(type='Resize', scale=resize, keep_ratio=keep_ratio))
    if not labels_before_resize:
        pipeline.append(dict(type='LoadAnnotations'))
    if flip:
        pipeline.append(dict(type='RandomFlip', prob=1.0))
    pipeline.append(dict(type='PackSegInputs'))
    return dict(
        batch_size=batch_size, num_workers=0, persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(type='PascalVOCDataset', data_root=data_root,
                     data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
                     ann_file='ImageSets/Segmentation/val.txt', pipeline=pipeline))


def classification_dataloader(data_root: str, batch_size: int = 1) -> dict:
    return dict(
        batch_size=batch_size, num_workers=0, persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(type='CustomDataset', data_root=data_root, data_prefix='',
                     pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')]))


def make_runner(model, work_dir: str, dataloader: dict, metric: str, angles: Optional[dict],
                default_scope: str, distributed: bool = False, loop: str = 'test'):
    """A real mmengine ``Runner`` whose ``test_cfg`` (or ``val_cfg``) is the rotated loop."""
    from mmengine.runner import Runner

    import mmsofteq  # noqa: F401  (registers the mmsofteq loops and metrics)
    loop_type = 'mmsofteq.RotatedTestLoop' if loop == 'test' else 'mmsofteq.RotatedValLoop'
    loop_cfg: Dict[str, object] = dict(type=loop_type)
    if angles is not None:
        loop_cfg['angles'] = angles
    kwargs = dict(
        model=model,
        work_dir=work_dir,
        experiment_name=f'rotated_eval_{uuid.uuid4().hex[:8]}',
        default_scope=default_scope,
        env_cfg=dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo')),
        log_level='WARNING',
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1000)),
    )
    evaluator = dict(type=metric)
    if loop == 'test':
        kwargs.update(test_dataloader=dataloader, test_evaluator=evaluator, test_cfg=loop_cfg)
    else:
        kwargs.update(val_dataloader=dataloader, val_evaluator=evaluator, val_cfg=loop_cfg)
    if distributed:
        # CPU DDP: device_ids must be None (the Runner reads the wrapper from ``cfg``).
        kwargs.update(launcher='pytorch',
                      cfg=dict(model_wrapper_cfg=dict(type='MMDistributedDataParallel',
                                                      device_ids=None)))
    return Runner(**kwargs)


# ----------------------------------------------------------------------------- misuse
class LogitFreeSegmentor(EncoderDecoder):
    """An mmseg segmentor whose predictions carry labels but no ``seg_logits``."""

    def postprocess_result(self, seg_logits, data_samples=None):
        samples = super().postprocess_result(seg_logits, data_samples)
        for sample in samples:
            del sample.seg_logits
        return samples


class ScoreFreeClassifier(ImageClassifier):
    """An mmpretrain classifier whose predictions carry labels but no ``pred_score``."""

    def predict(self, inputs, data_samples=None, **kwargs):
        samples = super().predict(inputs, data_samples, **kwargs)
        for sample in samples:
            del sample.pred_score
        return samples


class OutputRecorder(Hook):
    """A real mmengine hook recording the metainfo of every evaluation output."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.metainfo: List[dict] = []

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.metainfo += [dict(output.metainfo) for output in outputs]

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.metainfo += [dict(output.metainfo) for output in outputs]


# ----------------------------------------------------------------------------- distributed
def evaluate_both_tasks(rank: int, world_size: int, port: int, seg_root: str, cls_root: str,
                        work_dir: str, result_file: str) -> None:
    """Run the real Runner ``test()`` of a tiny SegFormer (RotatedIoUMetric) and a tiny
    ResNet (RotatedAccuracy) on ``world_size`` gloo CPU processes (``torch.multiprocessing
    .spawn`` target; ``world_size=1`` runs in the calling process without a process group).
    Rank 0 pickles ``{'segmentation': metrics, 'classification': metrics, 'world_size': ..,
    'batches_on_rank0': ..}`` to ``result_file``. One thread per process, so kernels round
    identically."""
    import pickle

    import torch.distributed as dist

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    distributed = world_size > 1
    if distributed:
        os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), RANK=str(rank),
                          WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank))
        dist.init_process_group('gloo', rank=rank, world_size=world_size)
    try:
        angles = dict(kind='uniform', low=-30.0, high=30.0, seed=7)
        segmentation_runner = make_runner(
            build_segmentor(tiny_segformer_cfg(), seed=0, scale=None),
            osp.join(work_dir, 'seg'), segmentation_dataloader(seg_root),
            'mmsofteq.RotatedIoUMetric', angles, 'mmseg', distributed=distributed)
        segmentation = segmentation_runner.test()
        classification = make_runner(
            build_classifier(tiny_resnet_cfg(3), seed=0, scale=None),
            osp.join(work_dir, 'cls'), classification_dataloader(cls_root),
            'mmsofteq.RotatedAccuracy', angles, 'mmpretrain', distributed=distributed).test()
        if rank == 0:
            with open(result_file, 'wb') as file:
                pickle.dump(dict(segmentation=segmentation, classification=classification,
                                 world_size=segmentation_runner.world_size,
                                 batches_on_rank0=len(segmentation_runner.test_dataloader)),
                            file)
    finally:
        if distributed:
            dist.destroy_process_group()
        torch.set_num_threads(threads)
