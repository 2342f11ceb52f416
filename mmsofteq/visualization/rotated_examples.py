"""Clean vs rotated predictions of a few evaluation images, for figures.

The predictions come from the same code path as the rotated metrics: the model's
``val_step`` and :class:`~mmsofteq.engine.runner.RotatedPredictionWriter` (the pass
``mmsofteq.RotatedValLoop`` runs), with each sample's seeded angle. The per-pixel error map
is the summand of ``eErr`` (``docs/evaluation.md``):

    KL_p = KL(softmax(rot f(x))_p || softmax(f(rot x))_p)        at valid pixels p,

so its mean over the valid pixels of an image is that image's contribution to ``eErr``
(:func:`mmsofteq.evaluation.statistics.mean_pixel_kl_divergence`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Optional

import numpy as np
import torch
from mmengine.model import is_model_wrapper

from ..engine.runner import RotatedPredictionWriter, rotate_field
from ..engine.runner import rotated_fields as fields
from ..evaluation.statistics import kl_divergence_of_probabilities


def pixel_kl_map(reference_logits: torch.Tensor, other_logits: torch.Tensor) -> torch.Tensor:
    """``(H, W)`` map of ``KL(softmax(reference)_p || softmax(other)_p)``, softmax over the
    class axis of two ``(C, H, W)`` logit tensors; the per-pixel terms of
    :func:`~mmsofteq.evaluation.statistics.mean_pixel_kl_divergence`, same formula and
    precision (the logits')."""
    if reference_logits.shape != other_logits.shape or reference_logits.ndim != 3:
        raise ValueError(f'logits must both be (C, H, W), got {tuple(reference_logits.shape)} '
                         f'and {tuple(other_logits.shape)}')
    log_p = torch.log_softmax(reference_logits, dim=0)
    log_q = torch.log_softmax(other_logits, dim=0)
    return (log_p.exp() * (log_p - log_q)).sum(dim=0)


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
    kl = pixel_kl_map(output.get(fields.ROTATED_CLEAN_SEG_LOGITS).data,
                      output.get(fields.ROTATED_SEG_LOGITS).data).double()
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
