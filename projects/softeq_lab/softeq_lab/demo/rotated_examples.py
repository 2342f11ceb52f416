"""Clean vs rotated predictions of a few evaluation images, and their PNG figures.

The predictions come from the same code path as the rotated metrics: the model's
``val_step`` and :class:`~mmsofteq.engine.runner.RotatedPredictionWriter` (the pass
``mmsofteq.RotatedValLoop`` runs), with each sample's seeded angle. The per-pixel error map
is the summand of ``eErr`` (``docs/evaluation.md``):

    KL_p = KL(softmax(rot f(x))_p || softmax(f(rot x))_p)        at valid pixels p,

so its mean over the valid pixels of an image is that image's contribution to ``eErr``
(:func:`mmsofteq.evaluation.statistics.mean_pixel_kl_divergence`). matplotlib is imported
inside the drawing functions with the ``Agg`` backend (no display needed).
"""
from __future__ import annotations

import os
import os.path as osp
from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence

import numpy as np
import torch
from mmengine.model import is_model_wrapper

from mmsofteq.engine.runner import RotatedPredictionWriter
from mmsofteq.evaluation.statistics import kl_divergence_from_logits, kl_divergence_of_probabilities
from mmsofteq.structures import rotated_fields as fields
from mmsofteq.utils import rotate_field


@dataclass
class SegmentationExample:
    """One image, its clean and rotated predictions and its eErr map (all ``(H, W)`` at label
    resolution; images ``(H, W, 3)`` uint8 RGB).

    Attributes:
        image: the image as loaded from disk.
        rotated_image: the image the model saw in the rotated pass, de-normalised: out-of-view
            pixels hold the normalisation mean (the rotation fills 0 after normalisation).
        gt: ground-truth labels (255 = ignore).
        pred: ``argmax f(x)``.
        rotated_pred: ``argmax f(rot x)``.
        kl_map: ``KL_p`` in nats; NaN outside the valid (in-view) pixels.
        angle: the rotation in degrees (counter-clockwise).
        eerr: ``100 x`` mean of ``kl_map`` over valid pixels (this image's eErr term).
        name: image file name.
    """
    image: np.ndarray
    rotated_image: np.ndarray
    gt: np.ndarray
    pred: np.ndarray
    rotated_pred: np.ndarray
    kl_map: np.ndarray
    angle: float
    eerr: float
    name: str


@dataclass
class ClassificationExample:
    """One image with its clean/rotated predictions and its KL term of ``iErr``.

    Attributes:
        image, rotated_image: ``(H, W, 3)`` uint8 RGB (see :class:`SegmentationExample`).
        label: ground truth; ``pred`` / ``rotated_pred``: argmax of the scores.
        score / rotated_score: the probability of the predicted class.
        kl: ``100 x KL(softmax f(x) || softmax f(rot x))`` (this image's iErr term).
    """
    image: np.ndarray
    rotated_image: np.ndarray
    label: int
    pred: int
    rotated_pred: int
    score: float
    rotated_score: float
    kl: float
    angle: float
    name: str


def _load_rgb(path: str) -> np.ndarray:
    from PIL import Image
    with Image.open(path) as image:
        return np.asarray(image.convert('RGB'), dtype=np.uint8)


def _rotated_display(image: np.ndarray, angle: float, frame, mean: Optional[torch.Tensor]):
    """Rotate an RGB image like the rotated pass does (about the centre of ``frame``, fill 0
    after mean subtraction) and return it as uint8."""
    pixels = torch.from_numpy(np.array(image)).permute(2, 0, 1).to(torch.float32)
    offset = mean.reshape(-1, 1, 1).to(torch.float32).cpu() if mean is not None else 0.0
    rotated = rotate_field(pixels - offset, angle, frame, mode='bilinear') + offset
    return rotated.clamp(0, 255).round().to(torch.uint8).permute(1, 2, 0).numpy()


def _preprocessor_mean(module: torch.nn.Module) -> Optional[torch.Tensor]:
    """The data preprocessor's RGB mean (``None`` without normalisation or 3 channels)."""
    preprocessor = getattr(module, 'data_preprocessor', None)
    mean = getattr(preprocessor, 'mean', None)
    if isinstance(mean, torch.Tensor) and mean.numel() == 3 and \
            getattr(preprocessor, '_enable_normalize', True):
        return mean
    return None


def _segmentation_example(output, mean) -> SegmentationExample:
    image = _load_rgb(output.metainfo['img_path'])
    clean_logits = output.seg_logits.data
    frame = tuple(clean_logits.shape[-2:])
    if image.shape[:2] != frame:
        raise ValueError(f'{output.metainfo["img_path"]}: image {image.shape[:2]} and logits '
                         f'{frame} differ in size (labels must stay at ori_shape)')
    angle = float(output.metainfo[fields.ROTATION_ANGLE])
    valid = output.get(fields.ROTATION_VALID_MASK).data.reshape(frame).bool()
    kl = kl_divergence_from_logits(output.get(fields.ROTATED_CLEAN_SEG_LOGITS).data,
                                   output.get(fields.ROTATED_SEG_LOGITS).data, dim=0).double()
    eerr = float(kl[valid].mean()) * 100 if bool(valid.any()) else float('nan')
    kl[~valid] = float('nan')
    return SegmentationExample(
        image=image,
        rotated_image=_rotated_display(image, angle, frame, mean),
        gt=output.gt_sem_seg.data.reshape(frame).cpu().numpy(),
        pred=output.pred_sem_seg.data.reshape(frame).cpu().numpy(),
        rotated_pred=output.get(fields.ROTATED_PRED_SEM_SEG).data.reshape(frame).cpu().numpy(),
        kl_map=kl.cpu().numpy(),
        angle=angle,
        eerr=eerr,
        name=str(output.metainfo['img_path']).replace('\\', '/').rsplit('/', 1)[-1])


def _classification_example(output, mean) -> ClassificationExample:
    image = _load_rgb(output.metainfo['img_path'])
    angle = float(output.metainfo[fields.ROTATION_ANGLE])
    score = output.pred_score.detach().cpu()
    rotated_score = output.get(fields.ROTATED_PRED_SCORE).detach().cpu()
    pred, rotated_pred = int(score.argmax()), int(rotated_score.argmax())
    return ClassificationExample(
        image=image,
        rotated_image=_rotated_display(image, angle, image.shape[:2], mean),
        label=int(output.gt_label.reshape(-1)[0]),
        pred=pred,
        rotated_pred=rotated_pred,
        score=float(score[pred]),
        rotated_score=float(rotated_score[rotated_pred]),
        kl=100 * kl_divergence_of_probabilities(score, rotated_score),
        angle=angle,
        name=str(output.metainfo['img_path']).replace('\\', '/').rsplit('/', 1)[-1])


@torch.no_grad()
def collect_rotated_examples(model: torch.nn.Module, batches: Iterable,
                             writer: RotatedPredictionWriter, num_images: int) -> List:
    """Run the clean ``val_step`` and the rotated pass on the first ``num_images`` samples of
    ``batches`` and return one example per sample (:class:`SegmentationExample` or
    :class:`ClassificationExample`, by the outputs' fields).

    Args:
        model: the (possibly wrapped) segmentor / classifier, e.g. ``runner.model``; it is
            put in eval mode for the passes and restored afterwards.
        batches: an evaluation dataloader whose samples carry their dataset index, e.g.
            ``runner.val_loop.dataloader`` of a ``mmsofteq.RotatedValLoop``.
        writer: the loop's ``rotated_predictions`` (so angles are the metric's).
        num_images: how many examples (>= 1).
    """
    if num_images < 1:
        raise ValueError(f'num_images must be >= 1, got {num_images}')
    module = model.module if is_model_wrapper(model) else model
    mean = _preprocessor_mean(module)
    was_training = model.training
    model.eval()
    examples: List = []
    try:
        for batch in batches:
            rotated_batch = writer.isolate(batch)
            outputs = model.val_step(batch)
            writer(model, rotated_batch, outputs)
            for output in outputs:
                if 'seg_logits' in output:
                    examples.append(_segmentation_example(output, mean))
                else:
                    examples.append(_classification_example(output, mean))
                if len(examples) == num_images:
                    return examples
    finally:
        model.train(was_training)
    return examples


# ------------------------------------------------------------------------------- figures
IGNORE_COLOUR = (224, 224, 192)  # VOC's colour of label 255


def colorize_labels(labels: np.ndarray, palette: Sequence[Sequence[int]],
                    ignore_index: int = 255) -> np.ndarray:
    """``(H, W)`` class indices -> ``(H, W, 3)`` uint8 RGB; ``ignore_index`` and indices
    outside the palette are drawn in VOC's ignore colour."""
    palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    labels = np.asarray(labels)
    rgb = np.empty(labels.shape + (3, ), dtype=np.uint8)
    rgb[...] = IGNORE_COLOUR
    known = (labels >= 0) & (labels < len(palette)) & (labels != ignore_index)
    rgb[known] = palette[labels[known]]
    return rgb


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path: str) -> str:
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches='tight')
    _pyplot().close(fig)
    return path


def draw_segmentation_examples(examples: Sequence[SegmentationExample],
                               palette: Sequence[Sequence[int]], path: str,
                               title: str = '',
                               class_names: Optional[Sequence[str]] = None,
                               row_labels: Optional[Sequence[str]] = None) -> str:
    """One row per example: image | ground truth | prediction | rotated image | prediction
    on the rotated image | eErr map (``100 x KL_p``, grey outside the valid pixels; one
    colour scale for all rows). With ``class_names``, a legend lists the classes that appear
    in the label panels; ``row_labels`` (one per example, e.g. the model) head each row's
    label. Returns ``path``."""
    if not examples:
        raise ValueError('no examples to draw')
    if row_labels is not None and len(row_labels) != len(examples):
        raise ValueError(f'{len(row_labels)} row labels for {len(examples)} examples')
    plt = _pyplot()
    columns = ('image', 'ground truth', 'prediction', 'rotated image',
               'prediction (rotated)', 'eErr map (100·KL)')
    maps = [100 * example.kl_map for example in examples]
    finite = np.concatenate([m[np.isfinite(m)] for m in maps] + [np.zeros(1)])
    vmax = max(float(np.percentile(finite, 99.5)), 1e-6)
    fig, axes = plt.subplots(len(examples), len(columns), squeeze=False,
                             figsize=(2.2 * len(columns), 2.3 * len(examples) + 0.4))
    image = None
    for row, (example, kl_map) in enumerate(zip(examples, maps)):
        panels = (example.image, colorize_labels(example.gt, palette),
                  colorize_labels(example.pred, palette), example.rotated_image,
                  colorize_labels(example.rotated_pred, palette))
        for column, panel in enumerate(panels):
            axes[row, column].imshow(panel, interpolation='nearest')
        cmap = plt.get_cmap('magma').copy()
        cmap.set_bad((0.6, 0.6, 0.6))
        image = axes[row, 5].imshow(np.ma.masked_invalid(kl_map), cmap=cmap, vmin=0.0,
                                    vmax=vmax, interpolation='nearest')
        head = f'{row_labels[row]}\n' if row_labels is not None else ''
        axes[row, 0].set_ylabel(f'{head}{example.name}\n{example.angle:+.1f}°', fontsize=8)
        axes[row, 3].set_title(f'{example.angle:+.1f}°', fontsize=8)
        axes[row, 5].set_title(f'eErr {example.eerr:.2f}', fontsize=8)
        for column in range(len(columns)):
            axes[row, column].set_xticks([])
            axes[row, column].set_yticks([])
    for column, name in enumerate(columns):
        top = axes[0, column]
        extra = top.get_title()
        top.set_title(f'{name}\n{extra}' if extra else name, fontsize=9)
    fig.colorbar(image, ax=axes[:, 5].tolist(), shrink=0.8, label='100 · KL (nats)')
    if class_names:
        _class_legend(fig, examples, palette, class_names)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def _class_legend(fig, examples, palette, class_names) -> None:
    from matplotlib.patches import Patch
    shown = set()
    for example in examples:
        for labels in (example.gt, example.pred, example.rotated_pred):
            shown.update(int(v) for v in np.unique(labels))
    handles = [Patch(color=np.asarray(palette[i]) / 255.0, label=class_names[i])
               for i in sorted(shown) if 0 <= i < min(len(palette), len(class_names))]
    if 255 in shown:
        handles.append(Patch(color=np.asarray(IGNORE_COLOUR) / 255.0, label='ignore (255)'))
    fig.legend(handles=handles, loc='lower center', ncol=min(len(handles), 12), fontsize=8,
               frameon=False, bbox_to_anchor=(0.5, -0.02))


def draw_classification_examples(examples: Sequence[ClassificationExample],
                                 class_names: Sequence[str], path: str,
                                 title: str = '') -> str:
    """Pairs of (image, rotated image) with label, predictions and the image's iErr term
    (``100 x KL``). Returns ``path``."""
    if not examples:
        raise ValueError('no examples to draw')
    plt = _pyplot()
    columns = min(4, len(examples))
    rows = -(-len(examples) // columns)
    fig, axes = plt.subplots(rows, 2 * columns, squeeze=False,
                             figsize=(2.0 * 2 * columns, 2.4 * rows + 0.4))
    for axis in axes.flat:
        axis.set_axis_off()
    for index, example in enumerate(examples):
        row, column = divmod(index, columns)
        clean, rotated = axes[row, 2 * column], axes[row, 2 * column + 1]
        clean.imshow(example.image, interpolation='nearest')
        clean.set_title(f'label {class_names[example.label]}\npred {class_names[example.pred]}'
                        f' ({example.score:.2f})', fontsize=8)
        rotated.imshow(example.rotated_image, interpolation='nearest')
        rotated.set_title(f'{example.angle:+.1f}°, iErr {example.kl:.1f}\npred '
                          f'{class_names[example.rotated_pred]} ({example.rotated_score:.2f})',
                          fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)
