"""Time ``mmsofteq.RotatedValLoop`` against mmengine's plain ``ValLoop``, side by side.

Both loops run in one process on the same model and the same on-disk data (written to a
temporary directory), alternating, after one warm-up pass each. Wall and process-CPU times
are reported; the ratio uses the minimum over repeats (the pass least disturbed by other
load: on a shared machine, also pass ``--threads 1``). The rotated loop does one extra
forward per sample, so the ratio should stay below about 2.1.

    python tools/benchmarks/benchmark_rotated_eval.py                       # SegFormer-B0 (mmseg)
    python tools/benchmarks/benchmark_rotated_eval.py --task classification  # ResNet-50
    python tools/benchmarks/benchmark_rotated_eval.py --images 16 --height 512 --width 384 \
        --repeats 5
    python tools/benchmarks/benchmark_rotated_eval.py --threads 1            # shared machine

Weights are random (no downloads): timing does not depend on them.

CPU note: with glibc's default malloc, PyTorch's large CPU buffers (tens of MB at 512 px)
are returned to the OS after each forward and page-faulted back in the next one; the
rotated loop keeps more memory alive, so it pays more of this. Setting
``MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296`` in the environment
removes the effect and makes both loops faster; the header line says whether it is set.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import statistics
import tempfile
import time
import uuid
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch
from PIL import Image

MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--task', choices=['segmentation', 'classification'],
                        default='segmentation')
    parser.add_argument('--images', type=int, default=8, help='number of evaluation images')
    parser.add_argument('--height', type=int, default=None,
                        help='image height (default 256 segmentation, 224 classification)')
    parser.add_argument('--width', type=int, default=None,
                        help='image width (default 320 segmentation, 224 classification)')
    parser.add_argument('--repeats', type=int, default=3, help='timed passes per loop')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------- data
def write_voc(root: str, count: int, height: int, width: int) -> str:
    rng = np.random.default_rng(0)
    for sub in ('JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    names = [f'img_{i:03d}' for i in range(count)]
    for name in names:
        image = rng.integers(0, 256, (height, width, 3)).astype(np.uint8)
        label = rng.integers(0, 21, (height // 8, width // 8)).astype(np.uint8)
        label = np.kron(label, np.ones((8, 8), np.uint8))[:height, :width]
        label = np.pad(label, ((0, height - label.shape[0]), (0, width - label.shape[1])),
                       constant_values=255)
        Image.fromarray(image).save(osp.join(root, 'JPEGImages', f'{name}.jpg'))
        Image.fromarray(label).save(osp.join(root, 'SegmentationClass', f'{name}.png'))
    with open(osp.join(root, 'ImageSets/Segmentation/val.txt'), 'w') as file:
        file.write('\n'.join(names) + '\n')
    return root


def write_image_folder(root: str, count: int, height: int, width: int) -> str:
    rng = np.random.default_rng(0)
    for i in range(count):
        folder = osp.join(root, f'class_{i % 10}')
        os.makedirs(folder, exist_ok=True)
        image = rng.integers(0, 256, (height, width, 3)).astype(np.uint8)
        Image.fromarray(image).save(osp.join(folder, f'{i:04d}.png'))
    return root


# ----------------------------------------------------------------------------- setups
def segmentation_setup(data_root: str) -> Tuple[dict, dict, str, str, str]:
    model = dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=MEAN, std=STD, bgr_to_rgb=True,
                               pad_val=0, seg_pad_val=255),
        backbone=dict(type='MixVisionTransformer', in_channels=3, embed_dims=32, num_stages=4,
                      num_layers=[2, 2, 2, 2], num_heads=[1, 2, 5, 8],
                      patch_sizes=[7, 3, 3, 3], sr_ratios=[8, 4, 2, 1],
                      out_indices=(0, 1, 2, 3), mlp_ratio=4, qkv_bias=True),
        decode_head=dict(type='SegformerHead', in_channels=[32, 64, 160, 256],
                         in_index=[0, 1, 2, 3], channels=256, dropout_ratio=0.1,
                         num_classes=21, norm_cfg=dict(type='BN'), align_corners=False,
                         loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        train_cfg=dict(), test_cfg=dict(mode='whole'))
    dataloader = dict(
        batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(type='PascalVOCDataset', data_root=data_root,
                     data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
                     ann_file='ImageSets/Segmentation/val.txt',
                     pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                               dict(type='PackSegInputs')]))
    return model, dataloader, 'mmseg', 'IoUMetric', 'mmsofteq.RotatedIoUMetric'


def classification_setup(data_root: str) -> Tuple[dict, dict, str, str, str]:
    model = dict(
        type='ImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor', mean=MEAN, std=STD, to_rgb=True,
                               num_classes=10),
        backbone=dict(type='ResNet', depth=50, out_indices=(3, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=2048,
                  loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
    dataloader = dict(
        batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(type='CustomDataset', data_root=data_root, data_prefix='',
                     pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')]))
    return model, dataloader, 'mmpretrain', 'Accuracy', 'mmsofteq.RotatedAccuracy'


def build_runner(model: torch.nn.Module, dataloader: dict, scope: str, loop: str, metric: str,
                 work_dir: str):
    from mmengine.runner import Runner
    return Runner(model=model, work_dir=work_dir, default_scope=scope,
                  experiment_name=f'benchmark_{uuid.uuid4().hex[:8]}', log_level='WARNING',
                  val_dataloader=dataloader, val_evaluator=dict(type=metric),
                  val_cfg=dict(type=loop), default_hooks=dict(logger=dict(
                      type='LoggerHook', interval=10**6)))


def timed(function: Callable[[], Dict]) -> Tuple[float, float, Dict]:
    """Run ``function``; return (wall seconds, CPU seconds of this process, its result)."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from mmengine.config import ConfigDict
    from mmengine.registry import MODELS, DefaultScope

    import mmsofteq  # noqa: F401  (registers mmsofteq.RotatedValLoop and the metrics)
    from mmsofteq.utils import text_table

    segmentation = args.task == 'segmentation'
    height = args.height or (256 if segmentation else 224)
    width = args.width or (320 if segmentation else 224)
    with tempfile.TemporaryDirectory() as tmp:
        if segmentation:
            model_cfg, dataloader, scope, plain_metric, rotated_metric = segmentation_setup(
                write_voc(osp.join(tmp, 'voc'), args.images, height, width))
        else:
            model_cfg, dataloader, scope, plain_metric, rotated_metric = classification_setup(
                write_image_folder(osp.join(tmp, 'images'), args.images, height, width))
        torch.manual_seed(0)
        with DefaultScope.overwrite_default_scope(scope):
            model = MODELS.build(ConfigDict(model_cfg))
        model.init_weights()
        model = model.to(args.device).eval()

        runners = {
            'ValLoop': build_runner(model, dataloader, scope, 'ValLoop', plain_metric,
                                    osp.join(tmp, 'plain')),
            'mmsofteq.RotatedValLoop': build_runner(model, dataloader, scope,
                                                    'mmsofteq.RotatedValLoop', rotated_metric,
                                                    osp.join(tmp, 'rotated')),
        }
        wall: Dict[str, List[float]] = {name: [] for name in runners}
        cpu: Dict[str, List[float]] = {name: [] for name in runners}
        metrics: Dict[str, Dict] = {}
        for name, runner in runners.items():  # warm-up (and loop/dataloader construction)
            metrics[name] = runner.val()
        for _ in range(args.repeats):  # alternate, so slow phases of a shared machine hit both
            for name, runner in runners.items():
                wall_seconds, cpu_seconds, metrics[name] = timed(runner.val)
                wall[name].append(wall_seconds)
                cpu[name].append(cpu_seconds)

    malloc = {k: v for k, v in os.environ.items() if k.startswith('MALLOC_')}
    print(f'task={args.task} images={args.images} size={height}x{width} '
          f'repeats={args.repeats} device={args.device} threads={torch.get_num_threads()} '
          f'malloc_env={malloc or "default"}')
    print(text_table(['loop', 'min wall s', 'median', 'min CPU s', 'wall passes (s)'],
                     [[name, f'{min(wall[name]):.3f}', f'{statistics.median(wall[name]):.3f}',
                       f'{min(cpu[name]):.3f}', ' '.join(f'{s:.2f}' for s in wall[name])]
                      for name in runners]))
    rotated, plain = 'mmsofteq.RotatedValLoop', 'ValLoop'
    wall_ratio = min(wall[rotated]) / min(wall[plain])
    cpu_ratio = min(cpu[rotated]) / min(cpu[plain])
    print(f'ratio RotatedValLoop / ValLoop: wall {wall_ratio:.3f}, CPU {cpu_ratio:.3f} '
          '(minimum over repeats: the pass least disturbed by other load)')
    print(f'budget 2.1x: {"within" if wall_ratio <= 2.1 else "ABOVE"}')
    print('rotated metrics:', {k: round(float(v), 4) for k, v in metrics[rotated].items()})


if __name__ == '__main__':
    main()
