#!/usr/bin/env python
"""The GPU check: Base vs SoftEq training and rotated validation of the three VOC paper configs.

For each case (``vit``: ViT-B/16 224 px, ``dinov2``: DINOv2-B/14 512 px, ``segformer``:
SegFormer-B0 512 px; ``configs/paper/voc``) and each variant (Base, SoftEq), on synthetic
VOC-layout data written here (random rectangles in VOC colours on noise, 500 x 375 px like
VOC's images; random initial weights: no checkpoint is fetched), it runs the real mmengine
``Runner`` with the config's own pipeline, model, optimiser and rotated validation, changing
only:

==========================  =====================================================================
setting                     value
==========================  =====================================================================
data roots                  the synthetic set (``--train-images`` / ``--val-images``)
``init_cfg=Pretrained``     dropped (random init)
schedule                    ``IterBasedTrainLoop``, ``--iters`` iterations, one validation at
                            the end, constant learning rate, no checkpoint
optimiser wrapper           ``AmpOptimWrapper(dtype='bfloat16')`` on CUDA (``--no-amp``: fp32)
``--tiny`` (CPU test)       64 px inputs, narrow ViT encoders (48 wide, 1 layer), 2 iterations
==========================  =====================================================================

and measures, per run: training iterations/s over the iterations after ``--warmup`` (CUDA
synchronised), images/s, peak GPU memory (``torch.cuda.max_memory_allocated``), the wall time
of the rotated validation, and the time to build the model (SoftEq minus Base = building the
projectors and injecting them). It writes ``<out>/gpu_check.md`` (a markdown table with the
SoftEq / Base ratios) and ``<out>/gpu_check.json``, and the adapted configs under
``<out>/configs`` (``tools/benchmarks/gpu_check.sh`` runs one of them again through
``torchrun ... tools/train.py --launcher pytorch``).

Usage::

    python tools/benchmarks/gpu_check.py --out $OUT                    # on the GPU machine
    python tools/benchmarks/gpu_check.py --out /tmp/gc --tiny --device cpu   # CPU test
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import os.path as osp
import platform
import statistics
import sys
import time
from typing import Any, Dict, List

import numpy as np
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from PIL import Image

from mmsofteq.apis import build_model_from_config, config_dicts
from mmsofteq.utils import markdown_header, markdown_row

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PAPER = osp.join(REPO, 'configs', 'paper', 'voc')
CASES = {
    'vit': ('ViT-B/16, 224 px', 'linear_vit-b16_8xb4-4.1k_voc12-paper-224x224.py'),
    'dinov2': ('DINOv2-B/14, 512 px', 'linear_dinov2-b14_8xb4-4.1k_voc12-paper-512x512.py'),
    'segformer': ('SegFormer-B0, 512 px', 'segformer_mit-b0_8xb4-4.1k_voc12-paper-512x512.py'),
}
VARIANTS = ('base', 'softeq')
TINY_SIZE = 64
TINY_VIT_ARCH = dict(embed_dims=48, num_layers=1, num_heads=2, feedforward_channels=96)
VOC_SIZE = (375, 500)  # height, width of a typical VOC image
NUM_CLASSES = 21


def log(message: str) -> None:
    print(f'[gpu_check {time.strftime("%H:%M:%S")}] {message}', flush=True)


# ------------------------------------------------------------------------------- data
def write_synthetic_voc(root: str, num_train: int, num_val: int, seed: int = 0) -> str:
    """VOC folders with ``num_train + num_val`` noisy images holding 1-3 class rectangles."""
    rng = np.random.default_rng(seed)
    height, width = VOC_SIZE
    for folder in ('JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation'):
        os.makedirs(osp.join(root, folder), exist_ok=True)
    names = [f'{index:06d}' for index in range(num_train + num_val)]
    for name in names:
        image = rng.normal(110, 25, (height, width, 3))
        label = np.zeros((height, width), np.uint8)
        for _ in range(int(rng.integers(1, 4))):
            cls = int(rng.integers(1, NUM_CLASSES))
            h, w = int(rng.integers(40, height // 2)), int(rng.integers(40, width // 2))
            top, left = int(rng.integers(0, height - h)), int(rng.integers(0, width - w))
            label[top:top + h, left:left + w] = cls
            image[top:top + h, left:left + w] = (37 * cls) % 256
        Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(
            osp.join(root, 'JPEGImages', f'{name}.jpg'), quality=90)
        Image.fromarray(label).save(osp.join(root, 'SegmentationClass', f'{name}.png'))
    for split, subset in (('train', names[:num_train]), ('val', names[num_train:])):
        with open(osp.join(root, 'ImageSets/Segmentation', f'{split}.txt'), 'w') as handle:
            handle.write('\n'.join(subset) + '\n')
    return root


# ----------------------------------------------------------------------------- configs
def _segmentor(cfg: Config) -> dict:
    model = cfg.model
    while str(model.get('type', '')).endswith('SoftEqModel'):
        model = model['model']
    return model


def adapt_config(path: str, data_root: str, work_dir: str, args) -> Config:
    """The paper config at ``path`` changed only as the module docstring's table says."""
    cfg = Config.fromfile(path)
    cfg.work_dir = work_dir
    cfg.load_from, cfg.resume = None, False
    for node in config_dicts(cfg.model):
        init_cfg = node.get('init_cfg')
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
            node['init_cfg'] = None
    for node in config_dicts([cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader]):
        if node.get('type') == 'PascalVOCDataset':
            node['data_root'] = data_root
    workers = 0 if args.tiny else args.workers
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        loader['num_workers'] = workers
        loader['persistent_workers'] = workers > 0
    # the synthetic set's own train / val lists (no seeded 90/10 split of a small set)
    for loader, split in ((cfg.train_dataloader, 'train'), (cfg.val_dataloader, 'val')):
        dataset = loader.dataset
        pipeline = (dataset.get('dataset') or dataset)['pipeline']
        loader.dataset = dict(
            type='PascalVOCDataset', data_root=data_root,
            data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
            ann_file=f'ImageSets/Segmentation/{split}.txt', pipeline=copy.deepcopy(pipeline))
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=args.iters,
                         val_interval=args.iters)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10 ** 9,
                                        save_last=False, by_epoch=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10, log_metric_by_epoch=False)
    cfg.log_processor = dict(by_epoch=False)
    cfg.env_cfg.dist_cfg = dict(backend='nccl' if args.device == 'cuda' else 'gloo',
                                timeout=300)
    if args.device == 'cuda' and not args.no_amp:
        wrapper = dict(cfg.optim_wrapper)
        wrapper.update(type='AmpOptimWrapper', dtype='bfloat16')
        cfg.optim_wrapper = wrapper
    if args.tiny:
        _shrink(cfg)
    return cfg


def _shrink(cfg: Config) -> None:
    """``--tiny``: 64 px inputs everywhere, narrow ViT encoders."""
    model = _segmentor(cfg)
    backbone = model['backbone']
    if str(backbone.get('type')).split('.')[-1] == 'VisionTransformer':
        backbone['arch'] = dict(TINY_VIT_ARCH)
        backbone['img_size'] = TINY_SIZE
        model['decode_head']['in_channels'] = TINY_VIT_ARCH['embed_dims']
        if model['decode_head'].get('num_convs') == 0:
            model['decode_head']['channels'] = TINY_VIT_ARCH['embed_dims']
    for node in config_dicts([cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader,
                              cfg.model]):
        for key in ('crop_size', 'size'):
            if isinstance(node.get(key), (list, tuple)) and len(node[key]) == 2:
                node[key] = (TINY_SIZE, TINY_SIZE)
        if node.get('type') in ('RandomResize', 'Resize') and 'scale' in node:
            node['scale'] = (TINY_SIZE, TINY_SIZE)


# ------------------------------------------------------------------------------ timing
class StepTimer(Hook):
    """Wall time of every training iteration (CUDA synchronised) and of each validation."""

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self.steps: List[float] = []
        self.validations: List[float] = []

    @staticmethod
    def _now() -> float:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return time.perf_counter()

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._start = self._now()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.steps.append(self._now() - self._start)

    def before_val(self, runner) -> None:
        self._val_start = self._now()

    def after_val(self, runner) -> None:
        self.validations.append(self._now() - self._val_start)


def run_case(case: str, variant: str, data_root: str, args) -> Dict[str, Any]:
    from mmengine.runner import Runner

    from mmsofteq.projection.api import clear_projector_cache

    name = CASES[case][1] if variant == 'base' else 'softeq_' + CASES[case][1]
    work_dir = osp.join(args.out, 'work_dirs', f'{case}_{variant}')
    cfg = adapt_config(osp.join(PAPER, name), data_root, work_dir, args)
    os.makedirs(osp.join(args.out, 'configs'), exist_ok=True)
    cfg.dump(osp.join(args.out, 'configs', f'{case}_{variant}.py'))
    clear_projector_cache()  # the build time includes building this model's projectors
    start = time.perf_counter()
    build_model_from_config(cfg, quiet=True, require_softeq=False)
    build_s = time.perf_counter() - start
    cfg.experiment_name = f'gpu_check_{case}_{variant}'
    runner = Runner.from_cfg(cfg)
    timer = StepTimer()
    runner.register_hook(timer)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    runner.train()
    steps = timer.steps[args.warmup:] or timer.steps
    step_s = statistics.median(steps)
    batch = int(cfg.train_dataloader.batch_size)
    metrics = {key[len('val/'):]: float(buffer.current())
               for key, buffer in runner.message_hub.log_scalars.items()
               if key.startswith('val/') and key[len('val/'):] in ('mIoU', 'aIoU', 'eErr')}
    peak = torch.cuda.max_memory_allocated() / 2 ** 30 if torch.cuda.is_available() else None
    return dict(case=case, variant=variant, config=name, batch=batch, iters=len(timer.steps),
                timed_iters=len(steps), step_s=step_s, it_per_s=1 / step_s,
                img_per_s=batch / step_s, peak_gib=peak,
                val_s=timer.validations[-1] if timer.validations else None,
                build_s=build_s, metrics=metrics)


# ------------------------------------------------------------------------------ report
def _fmt(value, digits=2) -> str:
    return '–' if value is None else f'{value:.{digits}f}'


def write_report(results: List[dict], args, extra: Dict[str, Any]) -> str:
    device = (torch.cuda.get_device_name(0) if args.device == 'cuda'
              else f'CPU ({os.cpu_count()} cores)')
    lines = [f'GPU check, {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}: {device}, '
             f'torch {torch.__version__} (CUDA {torch.version.cuda}), Python '
             f'{platform.python_version()}; command: `{" ".join(sys.argv)}`; '
             f'{args.iters} iterations ({args.warmup} untimed), '
             f'{"bf16 AMP" if args.device == "cuda" and not args.no_amp else "fp32"}, '
             f'synthetic VOC data ({args.train_images} train / {args.val_images} val images), '
             f'random init{", --tiny" if args.tiny else ""}.', '']
    for key, value in extra.items():
        lines.append(f'- {key}: {value}')
    if extra:
        lines.append('')
    lines.append(markdown_header(['model', 'variant', 'batch', 'it/s', 'img/s', 'peak GiB',
                                  'rotated val s', 'build s']))
    by_key = {(r['case'], r['variant']): r for r in results}
    for result in results:
        lines.append(markdown_row([
            CASES[result['case']][0], result['variant'], str(result['batch']),
            _fmt(result['it_per_s']), _fmt(result['img_per_s'], 1), _fmt(result['peak_gib']),
            _fmt(result['val_s']), _fmt(result['build_s'])]))
    lines += ['', 'SoftEq / Base (ratios; projector build = SoftEq build − Base build):', '']
    lines.append(markdown_header(['model', 'step time', 'peak memory', 'rotated val time',
                                  'projector build s']))
    for case in CASES:
        base, softeq = by_key.get((case, 'base')), by_key.get((case, 'softeq'))
        if base is None or softeq is None:
            continue
        ratio = (lambda key: None if base[key] in (None, 0) or softeq[key] is None
                 else softeq[key] / base[key])
        lines.append(markdown_row([CASES[case][0], _fmt(ratio('step_s'), 3),
                                   _fmt(ratio('peak_gib'), 3), _fmt(ratio('val_s'), 3),
                                   _fmt(softeq['build_s'] - base['build_s'])]))
    text = '\n'.join(lines) + '\n'
    with open(osp.join(args.out, 'gpu_check.md'), 'w') as handle:
        handle.write(text)
    with open(osp.join(args.out, 'gpu_check.json'), 'w') as handle:
        json.dump(dict(results=results, extra=extra), handle, indent=1)
    return text


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', default=os.environ.get('OUT', 'work_dirs/gpu_check'))
    parser.add_argument('--device', choices=('auto', 'cuda', 'cpu'), default='auto')
    parser.add_argument('--cases', default=','.join(CASES))
    parser.add_argument('--iters', type=int, default=30)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--train-images', type=int, default=64)
    parser.add_argument('--val-images', type=int, default=16)
    parser.add_argument('--workers', type=int, default=4)
    parser.add_argument('--no-amp', action='store_true')
    parser.add_argument('--tiny', action='store_true', help='CPU test sizes (module docstring)')
    parser.add_argument('--extra', action='append', default=[], metavar='KEY=VALUE',
                        help='a line for the report (install and build times of the .sh)')
    args = parser.parse_args(argv)
    if args.device == 'auto':
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if args.tiny:
        args.iters, args.warmup = min(args.iters, 2), 0
        args.train_images, args.val_images = min(args.train_images, 4), min(args.val_images, 2)
    unknown = set(args.cases.split(',')) - set(CASES)
    if unknown:
        parser.error(f'unknown cases {sorted(unknown)}; choose from {list(CASES)}')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    started = time.perf_counter()
    data_root = write_synthetic_voc(osp.join(args.out, 'data', 'voc'), args.train_images,
                                    args.val_images)
    log(f'synthetic VOC data: {args.train_images} + {args.val_images} images in '
        f'{time.perf_counter() - started:.1f} s')
    # imports and first-call costs paid once, untimed, so build times compare like with like
    warm = adapt_config(osp.join(PAPER, CASES['segformer'][1]), data_root,
                        osp.join(args.out, 'work_dirs', 'warm_up'), args)
    build_model_from_config(warm, quiet=True, require_softeq=False)
    results = []
    for case in args.cases.split(','):
        for variant in VARIANTS:
            start = time.perf_counter()
            log(f'{case} {variant}: training {args.iters} iterations + rotated validation')
            result = run_case(case, variant, data_root, args)
            results.append(result)
            log(f'{case} {variant}: {result["it_per_s"]:.2f} it/s, peak '
                f'{_fmt(result["peak_gib"])} GiB, done in {time.perf_counter() - start:.1f} s')
    extra = dict(item.split('=', 1) for item in args.extra)
    print(write_report(results, args, extra))
    log(f'benchmarks done in {time.perf_counter() - started:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
