"""Run the repository's configs for one step on tiny on-disk datasets (helpers of the tests).

Nothing here mocks OpenMMLab: the datasets are files in each dataset class's own on-disk
layout (PASCAL VOC folders, CIFAR's pickled batches, ImageNet class folders + ``meta/*.txt``,
the demo sets written by ``mmsofteq.datasets``), and ``shrink_config`` only changes what a user
could change with ``--cfg-options``: data roots, batch sizes, input sizes, schedule length,
no checkpoint downloads. The model architectures stay the configs' own, except that
``shrink_vit`` (opt-in) narrows ViT/DINOv2 encoders to keep a CPU step fast; the full-size
models are built separately (``build_model``).

``DATASET_ROOTS`` keys: ``voc``, ``cifar10``, ``cifar100``, ``imagenet``, ``demo_voc``,
``demo_digits_cls``; ``make_dataset_roots(tmp)`` writes them all (~1 s).
"""
from __future__ import annotations

import copy
import os
import os.path as osp
import pickle
import shutil
from typing import Any, Callable, Dict, Iterator, Optional

import numpy as np
from PIL import Image

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO, 'configs')

#: Side (px) that training crops / classification inputs are shrunk to.
SMOKE_SIZE = 64
#: A narrow ViT encoder for step tests (mmpretrain ``arch`` dict).
TINY_VIT_ARCH = dict(embed_dims=48, num_layers=1, num_heads=2, feedforward_channels=96)


def all_configs() -> list:
    """Every runnable config under ``configs/`` (relative paths), ``_base_`` fragments excluded."""
    found = []
    for folder, dirs, files in os.walk(CONFIG_DIR):
        dirs[:] = sorted(d for d in dirs if d != '_base_' and not d.startswith(('.', '__')))
        found += [osp.relpath(osp.join(folder, name), REPO) for name in sorted(files)
                  if name.endswith('.py')]
    return sorted(found)


# --------------------------------------------------------------------------- tiny datasets


def _write_cifar(root: str, kind: str, rng: np.random.Generator, per_split: int = 2) -> str:
    """CIFAR's python version: pickled dicts of uint8 rows (3*32*32) and labels."""
    folder = osp.join(root, 'cifar-10-batches-py' if kind == 'cifar10' else 'cifar-100-python')
    os.makedirs(folder, exist_ok=True)
    label_key = 'labels' if kind == 'cifar10' else 'fine_labels'
    num_classes = 10 if kind == 'cifar10' else 100
    files = (['data_batch_%d' % i for i in range(1, 6)] + ['test_batch']
             if kind == 'cifar10' else ['train', 'test'])
    for name in files:
        count = per_split if name in ('data_batch_1', 'train', 'test_batch', 'test') else 0
        entry = {'data': rng.integers(0, 256, size=(count, 3 * 32 * 32), dtype=np.uint8),
                 label_key: [int(v) for v in rng.integers(0, num_classes, size=count)]}
        with open(osp.join(folder, name), 'wb') as handle:
            pickle.dump(entry, handle)
    meta_name, meta_key = (('batches.meta', 'label_names') if kind == 'cifar10' else
                           ('meta', 'fine_label_names'))
    with open(osp.join(folder, meta_name), 'wb') as handle:
        pickle.dump({meta_key: [f'class_{i}' for i in range(num_classes)]}, handle)
    return root


def _write_imagenet(root: str, rng: np.random.Generator, per_split: int = 2) -> str:
    """ImageNet's layout: ``{train,val}/<wnid>/<name>.JPEG`` plus ``meta/{train,val}.txt``."""
    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    for split in ('train', 'val'):
        lines = []
        for index in range(per_split):
            label = index % 2
            wnid = f'n0000000{label}'
            os.makedirs(osp.join(root, split, wnid), exist_ok=True)
            rel = f'{wnid}/{split}_{index}.JPEG'
            pixels = rng.integers(0, 256, size=(80, 96, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(osp.join(root, split, rel), format='JPEG')
            lines.append(f'{rel} {label}')
        with open(osp.join(root, 'meta', f'{split}.txt'), 'w', encoding='utf-8') as handle:
            handle.write('\n'.join(lines) + '\n')
    return root


def make_dataset_roots(tmp: str) -> Dict[str, str]:
    """Write every tiny dataset under ``tmp``; returns ``{key: data_root}``."""
    from fixtures import make_tiny_voc  # tests/fixtures.py (tests/ is on sys.path)
    from mmsofteq.datasets import (ClassificationSpec, SegmentationSpec,
                                   write_classification_set, write_segmentation_set)

    rng = np.random.default_rng(0)
    roots = {}
    voc = make_tiny_voc(osp.join(tmp, 'VOC2012'), num_images=4, size=48, num_classes=21)
    # the SBD "aug" split of pascal_voc12_aug.py: SegmentationClassAug/ + aug.txt
    shutil.copytree(osp.join(voc, 'SegmentationClass'), osp.join(voc, 'SegmentationClassAug'))
    shutil.copy(osp.join(voc, 'ImageSets', 'Segmentation', 'train.txt'),
                osp.join(voc, 'ImageSets', 'Segmentation', 'aug.txt'))
    roots['voc'] = voc
    roots['cifar10'] = _write_cifar(osp.join(tmp, 'cifar10'), 'cifar10', rng)
    roots['cifar100'] = _write_cifar(osp.join(tmp, 'cifar100'), 'cifar100', rng)
    roots['imagenet'] = _write_imagenet(osp.join(tmp, 'imagenet'), rng)
    roots['demo_voc'] = osp.join(tmp, 'demo_voc')
    write_segmentation_set(roots['demo_voc'], SegmentationSpec(num_train=2, num_val=2))
    roots['demo_digits_cls'] = osp.join(tmp, 'demo_digits_cls')
    write_classification_set(roots['demo_digits_cls'],
                             ClassificationSpec(num_train=2, num_val=2))
    return roots


def dataset_root_key(dataset: dict) -> str:
    """Which tiny dataset replaces a config's dataset dict."""
    kind = str(dataset.get('type', '')).split('.')[-1]
    root = str(dataset.get('data_root', ''))
    if 'demo_voc' in root:
        return 'demo_voc'
    if 'demo_digits_cls' in root:
        return 'demo_digits_cls'
    if kind in ('PascalVOCDataset', 'BaseSegDataset'):
        return 'voc'
    if kind in ('CIFAR10', 'CIFAR100'):
        return kind.lower()
    if kind == 'ImageNet':
        return 'imagenet'
    raise KeyError(f'no tiny dataset for {kind!r} at {root!r}')


# --------------------------------------------------------------------------- config edits


def _walk(node: Any) -> Iterator[dict]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _walk(value)


def _is_pretrained(init_cfg: Any) -> bool:
    if isinstance(init_cfg, dict):
        return init_cfg.get('type') == 'Pretrained'
    if isinstance(init_cfg, (list, tuple)):
        return any(_is_pretrained(item) for item in init_cfg)
    return False


def inner_model(cfg) -> dict:
    """The segmentor/classifier dict (inside ``mmsofteq.SoftEqModel`` when wrapped)."""
    model = cfg.model
    if str(model.get('type', '')).endswith('SoftEqModel'):
        model = model['model']
    return model


def drop_downloads(cfg) -> None:
    """No checkpoint is fetched: ``load_from=None`` and no ``Pretrained`` init anywhere."""
    cfg.load_from = None
    cfg.resume = False
    for node in _walk(cfg.model):
        if _is_pretrained(node.get('init_cfg')):
            node['init_cfg'] = None


def shrink_vit(cfg) -> bool:
    """Narrow mmpretrain ViT encoders to ``TINY_VIT_ARCH`` (same img/patch size, so the
    projected grids are the configs' own); heads follow. Returns whether anything changed."""
    model = inner_model(cfg)
    backbone = model['backbone']
    if str(backbone.get('type', '')).split('.')[-1] != 'VisionTransformer':
        return False
    width = TINY_VIT_ARCH['embed_dims']
    backbone['arch'] = dict(TINY_VIT_ARCH)
    for head_key in ('decode_head', 'head'):
        head = model.get(head_key)
        if not head:
            continue
        if 'in_channels' in head:
            head['in_channels'] = width
        if head.get('type') == 'FCNHead' and head.get('num_convs') == 0:
            head['channels'] = width
    return True


def _scaled(value: Any, factor: float) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return max(8, int(round(value * factor)))
    if isinstance(value, (tuple, list)) and all(isinstance(v, int) for v in value):
        return type(value)(max(8, int(round(v * factor))) for v in value)
    return value


def train_input_size(cfg) -> int:
    """Side of the training inputs: the last resizing/cropping step of the train pipeline
    (the crop of a segmentation config, the network input of a classification one)."""
    dataset = cfg.train_dataloader.dataset
    pipeline = dataset.get('pipeline') or dataset.datasets[0].pipeline  # ConcatDataset
    size = SMOKE_SIZE
    for step in pipeline:
        kind = step.get('type')
        if kind in ('RandomCrop', 'RandomResizedCrop', 'CenterCrop'):
            value = step.get('crop_size', step.get('scale'))
        elif kind == 'Resize' and 'scale' in step:
            value = step['scale']
        else:
            continue
        size = value if isinstance(value, int) else min(value)
    return size


def shrink_inputs(cfg, size: int = SMOKE_SIZE) -> float:
    """Scale every image size of the pipelines, data preprocessor and sliding-window test so
    training inputs are ``size`` px (never upscales). Returns the factor used."""
    factor = min(1.0, size / train_input_size(cfg))
    if factor == 1.0:
        return factor
    keys = ('scale', 'crop_size', 'size', 'stride')
    holders = [cfg.get('train_pipeline'), cfg.get('test_pipeline'),
               cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader]
    seen = set()
    for holder in holders:
        for node in _walk(holder):
            if id(node) in seen or node.get('type') in (None, 'PackSegInputs', 'PackInputs'):
                continue
            seen.add(id(node))
            for key in keys:
                if key in node and not (node.get('type') == 'RandomCrop' and key == 'crop_size'
                                        and node.get('padding')):
                    node[key] = _scaled(node[key], factor)
    model = inner_model(cfg)
    preprocessor = model.get('data_preprocessor') or {}
    if preprocessor.get('size'):
        preprocessor['size'] = _scaled(preprocessor['size'], factor)
    test_cfg = model.get('test_cfg') or {}
    for key in ('crop_size', 'stride'):
        if key in test_cfg:
            test_cfg[key] = _scaled(test_cfg[key], factor)
    return factor


def _datasets(loader: dict) -> Iterator[dict]:
    dataset = loader['dataset']
    if str(dataset.get('type', '')).endswith('ConcatDataset'):
        yield from dataset['datasets']
    else:
        yield dataset


def point_data(cfg, roots: Dict[str, str]) -> None:
    """Tiny datasets, small batches, no worker processes, no downloads."""
    for name, batch in (('train_dataloader', 2), ('val_dataloader', 1), ('test_dataloader', 1)):
        loader = cfg[name]
        loader['batch_size'] = batch
        loader['num_workers'] = 0
        loader['persistent_workers'] = False
        for dataset in _datasets(loader):
            dataset['data_root'] = roots[dataset_root_key(dataset)]
            if str(dataset.get('type', '')).split('.')[-1] in ('CIFAR10', 'CIFAR100'):
                dataset['download'] = False


def one_step_schedule(cfg) -> None:
    """One training iteration (or one 1-iteration epoch), then validation; no checkpoints."""
    train_cfg = cfg.train_cfg
    if train_cfg.get('by_epoch', False) or 'max_epochs' in train_cfg:
        train_cfg.update(max_epochs=1, val_interval=1)
    else:
        train_cfg.update(max_iters=1, val_interval=1)
    cfg.default_hooks['checkpoint'] = None
    cfg.default_hooks['logger'] = dict(type='LoggerHook', interval=1)
    cfg.randomness = dict(seed=0)
    cfg.env_cfg['cudnn_benchmark'] = False


def shrink_config(path: str, roots: Dict[str, str], work_dir: str, *, tiny_vit: bool = True,
                  experiment_name: Optional[str] = None,
                  edit: Optional[Callable[[Any], None]] = None):
    """``Config`` of ``path`` ready for a one-step CPU run (see the module docstring)."""
    from mmengine.config import Config

    cfg = Config.fromfile(osp.join(REPO, path))
    cfg.work_dir = work_dir
    cfg.experiment_name = experiment_name or osp.splitext(osp.basename(path))[0]
    drop_downloads(cfg)
    if tiny_vit:
        shrink_vit(cfg)
    shrink_inputs(cfg)
    point_data(cfg, roots)
    one_step_schedule(cfg)
    if edit is not None:
        edit(cfg)
    return cfg


def build_model(cfg):
    """Build ``cfg.model`` as the Runner does (registry scope, top-level data preprocessor)."""
    from mmengine.registry import MODELS, init_default_scope

    init_default_scope(cfg.get('default_scope', None))
    model_cfg = copy.deepcopy(cfg.model)
    if cfg.get('data_preprocessor', None) is not None:
        model_cfg.setdefault('data_preprocessor', copy.deepcopy(cfg.data_preprocessor))
    return MODELS.build(model_cfg)


def cifar_without_checksums(monkeypatch) -> None:
    """Let mmpretrain's CIFAR classes read the tiny pickles: their integrity check compares
    each file's md5 with the real dataset's; the test fixtures' files differ, so the
    expected md5s are set to ``None`` (the check is then existence only) for this test."""
    from mmpretrain.datasets import CIFAR10, CIFAR100

    for cls in (CIFAR10, CIFAR100):
        for name in ('train_list', 'test_list'):
            monkeypatch.setattr(cls, name, [[file, None] for file, _ in cls.__dict__[name]])
        monkeypatch.setattr(cls, 'meta', dict(cls.__dict__['meta'], md5=None))
