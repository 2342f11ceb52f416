"""Tiny, offline, real-data-layout fixtures shared by the test suite.

Nothing here is a mock: the builders write real image/label files in PASCAL VOC's on-disk
layout and return a real mmengine ``Config`` for a real (just very small) mmseg SegFormer,
so tests run the genuine mmengine ``Runner``, mmseg datasets, transforms and metrics.

Import them from any test (``tests/`` is on ``sys.path``: ``make test`` sets ``PYTHONPATH``)::

    from fixtures import make_tiny_voc, tiny_segformer_cfg

    def test_something(tmp_path):
        data_root = make_tiny_voc(tmp_path / 'voc', num_images=8, size=32, num_classes=4)
        cfg = tiny_segformer_cfg(data_root, tmp_path / 'work', num_classes=4, max_iters=2)
        runner = Runner.from_cfg(cfg)   # or cfg.dump(path) and run tools/train.py on it
        runner.train()

``make_tiny_voc(root, num_images=8, size=32, num_classes=21, seed=0) -> str``
    Writes ``root/JPEGImages/*.jpg``, ``root/SegmentationClass/*.png`` (class indices,
    255 = ignore on a 1-pixel object outline, as in VOC) and
    ``root/ImageSets/Segmentation/{train,val}.txt``. Each image is a noisy background
    (class 0) with one or two rectangles whose class decides their colour (the VOC palette),
    so a model can learn something. ``train.txt`` lists every image, ``val.txt`` the last
    half (at least 2 images, so a 2-process validation has one image per rank).

``tiny_segformer_cfg(data_root, work_dir, *, num_classes=21, size=32, max_iters=4, ...)``
    A self-contained mmseg config (no ``_base_``, ``default_scope='mmseg'``) mirroring
    ``segformer_mit-b0`` but tiny: MiT ``embed_dims=16``, ``num_layers=[1, 1, 1, 1]``, head
    ``channels=32``, ``norm_cfg=SyncBN`` by default (like mmseg's configs, so the CPU path
    that turns SyncBN into BN is exercised), AdamW + PolyLR, ``IterBasedTrainLoop`` with
    validation and a checkpoint at ``max_iters``, IoUMetric, seed 0 with
    ``deterministic=True``, ``num_workers=0``. The default train pipeline has no random
    augmentation and the head has no dropout, so a run is bit-reproducible on CPU (the
    resume tests rely on this); pass ``augment=True`` for a random flip. With
    ``num_classes < 21`` the dataset's ``metainfo`` is set to the first ``num_classes`` VOC
    classes. ``--tta`` works (``tta_model``/``tta_pipeline`` are set).

    Several Runners in one process: give each ``cfg.experiment_name`` a distinct value, or
    mmengine's global logger/visualizer instances (keyed by that name, which defaults to the
    start second) are shared between them. Runner(deterministic=True) also turns on
    ``torch.use_deterministic_algorithms`` for the whole process; restore it if that matters.
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Optional, Sequence, Union

import numpy as np
from PIL import Image

PathLike = Union[str, 'os.PathLike[str]']

VOC_CLASSES = ('background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car',
               'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person',
               'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor')
VOC_PALETTE = ((0, 0, 0), (128, 0, 0), (0, 128, 0), (128, 128, 0), (0, 0, 128), (128, 0, 128),
               (0, 128, 128), (128, 128, 128), (64, 0, 0), (192, 0, 0), (64, 128, 0),
               (192, 128, 0), (64, 0, 128), (192, 0, 128), (64, 128, 128), (192, 128, 128),
               (0, 64, 0), (128, 64, 0), (0, 192, 0), (128, 192, 0), (0, 64, 128))
IGNORE_INDEX = 255


def make_tiny_voc(root: PathLike,
                  num_images: int = 8,
                  size: int = 32,
                  num_classes: int = 21,
                  seed: int = 0) -> str:
    """Write a tiny PASCAL-VOC-layout segmentation dataset and return its root (a str).

    Args:
        root: directory to create (``data_root`` of ``PascalVOCDataset``).
        num_images: number of image/label pairs (>= 2).
        size: images are ``size x size`` RGB JPEGs, labels ``size x size`` uint8 PNGs.
        num_classes: labels use ids ``0 .. num_classes-1`` (2 <= num_classes <= 21) plus 255.
        seed: numpy seed; the same arguments always write the same pixels.
    """
    if num_images < 2:
        raise ValueError(f'num_images must be >= 2, got {num_images}')
    if not 2 <= num_classes <= len(VOC_CLASSES):
        raise ValueError(f'num_classes must be in [2, {len(VOC_CLASSES)}], got {num_classes}')
    if size < 8:
        raise ValueError(f'size must be >= 8, got {size}')
    root = str(root)
    img_dir = osp.join(root, 'JPEGImages')
    ann_dir = osp.join(root, 'SegmentationClass')
    split_dir = osp.join(root, 'ImageSets', 'Segmentation')
    for folder in (img_dir, ann_dir, split_dir):
        os.makedirs(folder, exist_ok=True)

    rng = np.random.default_rng(seed)
    names = [f'2007_{index:06d}' for index in range(num_images)]
    for index, name in enumerate(names):
        label = np.zeros((size, size), dtype=np.uint8)
        image = rng.normal(110.0, 20.0, size=(size, size, 3))
        for object_index in range(1 + index % 2):
            cls = 1 + (index + 7 * object_index) % (num_classes - 1)
            height, width = rng.integers(size // 4, size // 2 + 1, size=2)
            top, left = rng.integers(1, size - max(height, width), size=2)
            outline = np.zeros_like(label, dtype=bool)
            outline[top - 1:top + height + 1, left - 1:left + width + 1] = True
            inside = np.zeros_like(outline)
            inside[top:top + height, left:left + width] = True
            label[outline & ~inside] = IGNORE_INDEX
            label[inside] = cls
            colour = np.asarray(VOC_PALETTE[cls], dtype=np.float64) + 40.0
            image[inside] = colour + rng.normal(0.0, 10.0, size=(int(inside.sum()), 3))
        image = np.clip(image, 0, 255).astype(np.uint8)
        Image.fromarray(image, mode='RGB').save(osp.join(img_dir, f'{name}.jpg'), quality=95)
        Image.fromarray(label, mode='L').save(osp.join(ann_dir, f'{name}.png'))

    val_names = names[-max(2, num_images // 2):]
    with open(osp.join(split_dir, 'train.txt'), 'w', encoding='utf-8') as file:
        file.write('\n'.join(names) + '\n')
    with open(osp.join(split_dir, 'val.txt'), 'w', encoding='utf-8') as file:
        file.write('\n'.join(val_names) + '\n')
    return root


def tiny_segformer_cfg(data_root: PathLike,
                       work_dir: PathLike,
                       *,
                       num_classes: int = 21,
                       size: int = 32,
                       max_iters: int = 4,
                       batch_size: int = 2,
                       val_interval: Optional[int] = None,
                       checkpoint_interval: Optional[int] = None,
                       norm_type: str = 'SyncBN',
                       lr: float = 1e-3,
                       seed: int = 0,
                       augment: bool = False,
                       embed_dims: int = 16,
                       num_layers: Sequence[int] = (1, 1, 1, 1)):
    """Return a runnable mmengine ``Config`` of a tiny mmseg SegFormer on ``data_root``.

    ``val_interval`` and ``checkpoint_interval`` default to ``max_iters`` (validate and save
    once, at the end). See the module docstring for what the config contains.
    """
    from mmengine.config import Config

    val_interval = max_iters if val_interval is None else val_interval
    checkpoint_interval = max_iters if checkpoint_interval is None else checkpoint_interval
    norm_cfg = dict(type=norm_type, requires_grad=True)
    num_heads = [1, 2, 5, 8]
    metainfo = None
    if num_classes != len(VOC_CLASSES):
        metainfo = dict(classes=VOC_CLASSES[:num_classes], palette=VOC_PALETTE[:num_classes])

    train_pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]
    if augment:
        train_pipeline.append(dict(type='RandomFlip', prob=0.5))
    train_pipeline.append(dict(type='PackSegInputs'))
    test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs'),
    ]
    tta_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='TestTimeAug',
             transforms=[[dict(type='RandomFlip', prob=0.0, direction='horizontal'),
                          dict(type='RandomFlip', prob=1.0, direction='horizontal')],
                         [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]]),
    ]

    def dataset(split: str, pipeline: list) -> dict:
        cfg = dict(type='PascalVOCDataset', data_root=str(data_root),
                   data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
                   ann_file=f'ImageSets/Segmentation/{split}.txt', pipeline=pipeline)
        if metainfo is not None:
            cfg['metainfo'] = metainfo
        return cfg

    cfg = dict(
        default_scope='mmseg',
        work_dir=str(work_dir),
        model=dict(
            type='EncoderDecoder',
            data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                                   std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                                   seg_pad_val=IGNORE_INDEX, size=(size, size)),
            pretrained=None,
            backbone=dict(type='MixVisionTransformer', in_channels=3, embed_dims=embed_dims,
                          num_stages=4, num_layers=list(num_layers), num_heads=num_heads,
                          patch_sizes=[7, 3, 3, 3], sr_ratios=[8, 4, 2, 1],
                          out_indices=(0, 1, 2, 3), mlp_ratio=4, qkv_bias=True, drop_rate=0.0,
                          attn_drop_rate=0.0, drop_path_rate=0.0),
            decode_head=dict(type='SegformerHead',
                             in_channels=[embed_dims * heads for heads in num_heads],
                             in_index=[0, 1, 2, 3], channels=32, dropout_ratio=0.0,
                             num_classes=num_classes, norm_cfg=norm_cfg, align_corners=False,
                             loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                                              loss_weight=1.0)),
            train_cfg=dict(),
            test_cfg=dict(mode='whole')),
        train_dataloader=dict(batch_size=batch_size, num_workers=0,
                              sampler=dict(type='InfiniteSampler', shuffle=True),
                              dataset=dataset('train', train_pipeline)),
        val_dataloader=dict(batch_size=1, num_workers=0,
                            sampler=dict(type='DefaultSampler', shuffle=False),
                            dataset=dataset('val', test_pipeline)),
        test_dataloader=dict(batch_size=1, num_workers=0,
                             sampler=dict(type='DefaultSampler', shuffle=False),
                             dataset=dataset('val', test_pipeline)),
        val_evaluator=dict(type='IoUMetric', iou_metrics=['mIoU']),
        test_evaluator=dict(type='IoUMetric', iou_metrics=['mIoU']),
        optim_wrapper=dict(type='OptimWrapper',
                           optimizer=dict(type='AdamW', lr=lr, betas=(0.9, 0.999),
                                          weight_decay=0.01)),
        param_scheduler=[dict(type='PolyLR', eta_min=0.0, power=1.0, begin=0, end=max_iters,
                              by_epoch=False)],
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters,
                       val_interval=val_interval),
        val_cfg=dict(type='ValLoop'),
        test_cfg=dict(type='TestLoop'),
        default_hooks=dict(
            timer=dict(type='IterTimerHook'),
            logger=dict(type='LoggerHook', interval=1, log_metric_by_epoch=False),
            param_scheduler=dict(type='ParamSchedulerHook'),
            checkpoint=dict(type='CheckpointHook', by_epoch=False,
                            interval=checkpoint_interval),
            sampler_seed=dict(type='DistSamplerSeedHook'),
            visualization=dict(type='SegVisualizationHook')),
        env_cfg=dict(cudnn_benchmark=False,
                     mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
                     dist_cfg=dict(backend='nccl')),
        randomness=dict(seed=seed, deterministic=True),
        vis_backends=[dict(type='LocalVisBackend')],
        visualizer=dict(type='SegLocalVisualizer', vis_backends=[dict(type='LocalVisBackend')]),
        log_processor=dict(by_epoch=False),
        log_level='INFO',
        load_from=None,
        resume=False,
        tta_model=dict(type='SegTTAModel'),
        tta_pipeline=tta_pipeline,
    )
    return Config(cfg)
