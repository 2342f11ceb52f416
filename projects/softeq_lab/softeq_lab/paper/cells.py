"""The paper's reported cells (Tab. 1, 2, 4, 7, 10) and the configs that run them.

One :class:`PaperCell` per (table, dataset, backbone, column): its configs under
``configs/paper/``, the logged metric keys in the table's order, the paper's numbers and the
factor that turns our logged value into the paper's unit. The only place in the repository
that holds the paper's numbers besides configs/README.md (tests check that the two agree);
``softeq_lab.paper.compare_paper`` prints a multi-seed result next to them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Tuple

SEG = ('mIoU', 'aIoU', 'cIoU', 'eErr')
CLS = ('accuracy/top1', 'rotated_accuracy/top1', 'cAcc', 'iErr')
#: the paper's names of the logged keys
PAPER_NAMES = {'mIoU': 'mIoU', 'aIoU': 'aIoU', 'cIoU': 'cIoU', 'eErr': 'eErr',
               'accuracy/top1': 'Acc', 'rotated_accuracy/top1': 'aAcc', 'cAcc': 'cAcc',
               'iErr': 'iErr'}


@dataclass(frozen=True)
class PaperCell:
    """One cell of a paper table.

    ``configs``: the configs that run it (ImageNet Ours: the "coarse" and "fine" runs, the
    table does not say which it reports); ``metrics``: logged keys; ``paper``: the paper's
    numbers in the same order; ``scale``: our logged value x scale = the paper's unit (1.0,
    except ImageNet iErr, which the paper reports in raw nats: 0.01).
    """

    table: str
    dataset: str
    backbone: str
    column: str
    configs: Tuple[str, ...]
    metrics: Tuple[str, ...]
    paper: Tuple[float, ...]
    scale: Tuple[float, ...]

    @property
    def name(self) -> str:
        return f'{self.table} {self.dataset} {self.backbone} {self.column}'


VOC = {  # backbone: (config name after the prefix)
    'ViT': 'linear_vit-b16_8xb4-4.1k_voc12-paper-224x224.py',
    'DINOv2': 'linear_dinov2-b14_8xb4-4.1k_voc12-paper-512x512.py',
    'SegFormer': 'segformer_mit-b0_8xb4-4.1k_voc12-paper-512x512.py',
}
NETS = {'ViT': 'vit-b16', 'DINOv2': 'dinov2-b14', 'ResNet-50': 'resnet50'}
#: The authors' CIFAR "ViT" is DeiT-S/16 (their config/vit_classif.yaml).
CIFAR_NETS = dict(NETS, ViT='deit-s16')


def _voc(prefix: str, backbone: str) -> str:
    return f'configs/paper/voc/{prefix}{VOC[backbone]}'


def _cifar(prefix: str, data: str, backbone: str) -> str:
    return f'configs/paper/cifar/{prefix}{CIFAR_NETS[backbone]}_8xb16-30e_{data}-paper-224px.py'


def _in1k(prefix: str, backbone: str) -> str:
    return f'configs/paper/imagenet/{prefix}{NETS[backbone]}_8xb16-15e_in1k-paper-224px.py'


def _cells() -> List[PaperCell]:
    cells = []
    prefixes = {'Base': '', 'Canon.': 'canon_', 'Ours': 'softeq_'}

    def add(table, dataset, backbone, column, configs, metrics, paper, scale=None):
        cells.append(PaperCell(table, dataset, backbone, column, tuple(configs), metrics,
                               tuple(paper), tuple(scale or (1.0,) * len(metrics))))

    # Tab. 4: PASCAL VOC, mIoU / aIoU / cIoU / eErr
    tab4 = {
        'ViT': ((73.40, 70.09, 71.73, 12.31), (65.36, 61.93, 63.62, 20.39),
                (74.78, 71.61, 73.18, 11.12)),
        'DINOv2': ((89.57, 88.10, 88.83, 4.06), (83.48, 82.73, 83.11, 44.93),
                   (89.48, 88.70, 89.09, 3.70)),
        'SegFormer': ((65.34, 61.17, 63.22, 11.03), (57.50, 55.23, 56.36, 24.82),
                      (66.34, 62.52, 64.40, 10.64)),
    }
    for backbone, rows in tab4.items():
        for column, paper in zip(prefixes, rows):
            add('Tab. 4', 'PASCAL VOC', backbone, column, [_voc(prefixes[column], backbone)],
                SEG, paper)
    # Tab. 7: ViT on VOC, hard threshold vs smooth mask
    add('Tab. 7', 'PASCAL VOC', 'ViT', 'hard', [_voc('softeq-hard_', 'ViT')], SEG,
        (73.92, 69.70, 71.78, 11.74))
    add('Tab. 7', 'PASCAL VOC', 'ViT', 'smooth', [_voc('softeq_', 'ViT')], SEG,
        (74.78, 71.61, 73.18, 11.12))
    # Tab. 2: ImageNet-1k, Acc / aAcc / cAcc / iErr (iErr in raw nats)
    tab2 = {
        'ViT': ((81.67, 77.29, 79.40, 0.36), (76.51, 75.81, 76.15, 0.15),
                (82.28, 80.56, 81.40, 0.15)),
        'DINOv2': ((84.27, 82.82, 83.52, 0.13), (83.22, 82.54, 82.87, 0.07),
                   (85.31, 84.44, 84.87, 0.05)),
        'ResNet-50': ((77.91, 75.12, 76.48, 0.24), (72.07, 70.89, 71.46, 0.24),
                      (77.96, 75.52, 76.72, 0.11)),
    }
    for backbone, rows in tab2.items():
        for column, paper in zip(prefixes, rows):
            configs = ([_in1k('softeq-coarse_', backbone), _in1k('softeq-fine_', backbone)]
                       if column == 'Ours' else [_in1k(prefixes[column], backbone)])
            add('Tab. 2', 'ImageNet-1k', backbone, column, configs, CLS, paper,
                (1.0, 1.0, 1.0, 0.01))
    # Tab. 1: CIFAR, Acc / aAcc / cAcc / iErr
    tab1 = {
        ('cifar10', 'ViT'): ((97.79, 96.62, 97.20, 7.21), (93.23, 92.62, 92.92, 10.97),
                             (97.79, 96.69, 97.24, 7.02)),
        ('cifar10', 'DINOv2'): ((98.81, 97.27, 98.04, 8.16), (97.16, 96.88, 97.02, 5.58),
                                (98.82, 97.43, 98.12, 7.03)),
        ('cifar10', 'ResNet-50'): ((96.32, 91.15, 93.70, 27.29), (91.11, 90.66, 90.89, 10.32),
                                   (96.61, 91.28, 93.91, 24.20)),
        ('cifar100', 'ViT'): ((86.36, 84.09, 85.22, 23.81), (78.42, 76.83, 77.62, 24.55),
                              (86.60, 84.13, 85.36, 23.80)),
        ('cifar100', 'DINOv2'): ((91.01, 85.52, 88.22, 43.02), (84.39, 83.66, 84.02, 20.86),
                                 (91.03, 86.81, 88.90, 35.17)),
        ('cifar100', 'ResNet-50'): ((83.10, 73.73, 78.28, 59.36), (72.90, 72.11, 72.50, 19.07),
                                    (83.30, 74.27, 78.66, 58.50)),
    }
    names = {'cifar10': 'CIFAR-10', 'cifar100': 'CIFAR-100'}
    for (data, backbone), rows in tab1.items():
        for column, paper in zip(prefixes, rows):
            add('Tab. 1', names[data], backbone, column,
                [_cifar(prefixes[column], data, backbone)], CLS, paper)
    # Tab. 10: strict (softness 0): cAcc on CIFAR, cIoU on VOC
    strict = {('cifar10', 'ViT'): 84.10, ('cifar10', 'DINOv2'): 93.07,
              ('cifar10', 'ResNet-50'): 73.21, ('cifar100', 'ViT'): 66.98,
              ('cifar100', 'DINOv2'): 81.99, ('cifar100', 'ResNet-50'): 58.85}
    for (data, backbone), value in strict.items():
        add('Tab. 10', names[data], backbone, 'strict',
            [_cifar('softeq-strict_', data, backbone)], ('cAcc',), (value,))
    for backbone, value in (('ViT', 63.45), ('DINOv2', 68.87), ('SegFormer', 29.20)):
        add('Tab. 10', 'PASCAL VOC', backbone, 'strict', [_voc('softeq-strict_', backbone)],
            ('cIoU',), (value,))
    return cells


CELLS: List[PaperCell] = _cells()


def cells_of_config(config: str) -> List[PaperCell]:
    """The cells a config runs (matched by file name: names under configs/paper/ are unique)."""
    name = config.replace('\\', '/').rsplit('/', 1)[-1]
    return [cell for cell in CELLS if any(path.endswith('/' + name) for path in cell.configs)]


def configs_of_cells() -> Dict[str, List[PaperCell]]:
    """``{config: [cells]}`` over every cell."""
    found: Dict[str, List[PaperCell]] = {}
    for cell in CELLS:
        for path in cell.configs:
            found.setdefault(path, []).append(cell)
    return found
