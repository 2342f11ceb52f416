"""Pure per-sample statistics of rotated evaluation (no OpenMMLab imports).

Histograms are exact integer counts held in float64; divergences are computed in float64.
"""
from __future__ import annotations

import math
from typing import Dict, Optional, Sequence

import numpy as np
import torch

# rows of the (4, C) array returned by segmentation_histograms
INTERSECT, UNION, PRED_AREA, LABEL_AREA = range(4)


def segmentation_histograms(pred: torch.Tensor, label: torch.Tensor, num_classes: int,
                            ignore_index: int = 255) -> np.ndarray:
    """Per-class pixel counts of one image, over pixels whose label is not ``ignore_index``.

    Same semantics as mmseg's ``IoUMetric.intersect_and_union`` (labels outside
    ``[0, C)`` count in no class; predictions are counted at every non-ignored pixel),
    but in exact integer arithmetic.

    Args:
        pred: ``(H, W)`` (or ``(1, H, W)``) predicted class indices.
        label: ground truth of the same shape.
        num_classes: ``C``.
        ignore_index: label value excluded from every count.

    Returns:
        ``(4, C)`` float64 array with rows ``[intersect, union, pred_area, label_area]``,
        ``union = pred_area + label_area - intersect``.
    """
    pred = pred.squeeze()
    label = label.squeeze()
    if pred.shape != label.shape:
        raise ValueError(f'prediction {tuple(pred.shape)} and label {tuple(label.shape)} '
                         'differ in shape')
    # One bincount over a confusion matrix with extra rows for out-of-range and ignored
    # labels and an extra column for out-of-range predictions (no boolean indexing).
    label = label.reshape(-1).long().cpu()
    pred = pred.reshape(-1).long().cpu()
    outside, ignored = num_classes, num_classes + 1
    rows = torch.where((label >= 0) & (label < num_classes), label, outside)
    rows = torch.where(label == ignore_index, ignored, rows)
    columns = torch.where((pred >= 0) & (pred < num_classes), pred, outside)
    width = num_classes + 1
    confusion = torch.bincount(rows * width + columns,
                               minlength=(num_classes + 2) * width).reshape(-1, width)
    confusion = confusion[:num_classes + 1]  # drop the ignored row
    intersect = confusion.diagonal()[:num_classes]
    pred_area = confusion[:, :num_classes].sum(0)
    label_area = confusion[:num_classes, :].sum(1)
    union = pred_area + label_area - intersect
    return torch.stack([intersect, union, pred_area, label_area]).numpy().astype(np.float64)


def iou_summary(histograms: np.ndarray,
                nan_to_num: Optional[float] = None) -> Dict[str, np.ndarray]:
    """Scores from summed ``(4, C)`` histograms (fractions, not percent).

    ``IoU_c = I_c / U_c``, ``Acc_c = I_c / L_c`` (NaN where the denominator is 0, or
    ``nan_to_num``), ``pixel_acc = sum I / sum L``, ``mIoU = nanmean IoU``,
    ``mAcc = nanmean Acc``.
    """
    histograms = np.asarray(histograms, dtype=np.float64)
    with np.errstate(divide='ignore', invalid='ignore'):
        iou = histograms[INTERSECT] / histograms[UNION]
        acc = histograms[INTERSECT] / histograms[LABEL_AREA]
        pixel_acc = histograms[INTERSECT].sum() / histograms[LABEL_AREA].sum()
    if nan_to_num is not None:
        iou = np.nan_to_num(iou, nan=nan_to_num)
        acc = np.nan_to_num(acc, nan=nan_to_num)
    return dict(IoU=iou, Acc=acc, pixel_acc=np.float64(pixel_acc),
                mIoU=_nanmean(iou), mAcc=_nanmean(acc))


def _nanmean(values: np.ndarray) -> np.float64:
    finite = values[~np.isnan(values)]
    return np.float64(finite.mean()) if finite.size else np.float64(np.nan)


def kl_divergence(log_p: torch.Tensor, log_q: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``KL(P || Q) = sum_c P_c (log P_c - log Q_c)`` along ``dim``, from log-probabilities.

    The one KL kernel of mmsofteq (eErr, iErr, the eErr map of the figures, the tools'
    experiments). Terms with ``P_c = 0`` are 0 (the limit ``p log p → 0``), so underflowed or
    exact-zero probabilities give a finite result. Computed in the inputs' precision; a sum
    that rounding made negative is returned as 0 (KL >= 0), so no ``-0.0000`` is reported.

    Args:
        log_p, log_q: log-probabilities of the same shape (e.g. ``(C, H, W)`` or ``(N, C)``).
        dim: the class axis.

    Returns:
        The divergence per position, ``log_p`` with ``dim`` removed.
    """
    p = log_p.exp()
    return torch.where(p > 0, p * (log_p - log_q), torch.zeros_like(p)).sum(dim).clamp_min(0.0)


def kl_divergence_from_logits(reference_logits: torch.Tensor, other_logits: torch.Tensor,
                              dim: int = -1) -> torch.Tensor:
    """``KL(softmax(reference) || softmax(other))`` along ``dim`` (:func:`kl_divergence`)."""
    if reference_logits.shape != other_logits.shape:
        raise ValueError(f'logits differ in shape: {tuple(reference_logits.shape)} and '
                         f'{tuple(other_logits.shape)}')
    return kl_divergence(torch.log_softmax(reference_logits, dim=dim),
                         torch.log_softmax(other_logits, dim=dim), dim=dim)


def mean_pixel_kl_divergence(reference_logits: torch.Tensor, other_logits: torch.Tensor,
                             valid: torch.Tensor) -> Optional[float]:
    """Mean over valid pixels of ``KL(softmax(reference)_p || softmax(other)_p)``.

    Per-pixel terms (:func:`kl_divergence_from_logits` over the class axis) are computed in
    the logits' precision (float32 for mmseg: a relative error of ~1e-6 on typical values,
    and exactly 0 for identical logits); the sum over pixels is accumulated in float64. Pass
    float64 logits for float64 throughout.

    Args:
        reference_logits: ``(C, H, W)`` logits of ``P`` (for eErr: ``rot(f(x))``).
        other_logits: ``(C, H, W)`` logits of ``Q`` (for eErr: ``f(rot x)``).
        valid: ``(H, W)`` (or ``(1, H, W)``) bool mask of the pixels to average over.

    Returns:
        The mean in nats, or ``None`` when no pixel is valid.
    """
    total, count = summed_pixel_kl_divergence(reference_logits, other_logits, valid)
    return None if count == 0 else total / count


def summed_pixel_kl_divergence(reference_logits: torch.Tensor, other_logits: torch.Tensor,
                               valid: torch.Tensor) -> tuple[float, int]:
    """``(sum over valid pixels of KL_p, number of valid pixels)``; see
    :func:`mean_pixel_kl_divergence` (which divides the two)."""
    if reference_logits.shape != other_logits.shape or reference_logits.ndim != 3:
        raise ValueError(f'logits must both be (C, H, W), got {tuple(reference_logits.shape)} '
                         f'and {tuple(other_logits.shape)}')
    valid = valid.reshape(reference_logits.shape[-2:]).bool()
    count = int(valid.sum())
    if count == 0:
        return 0.0, 0
    num_classes, height, width = reference_logits.shape
    # Row blocks of ~2**18 values keep the element-wise passes in cache (2-4x faster on CPU).
    rows = max(1, _CHUNK_VALUES // (num_classes * width))
    total = torch.zeros((), dtype=torch.float64, device=reference_logits.device)
    for top in range(0, height, rows):
        per_pixel = kl_divergence_from_logits(reference_logits[:, top:top + rows],
                                              other_logits[:, top:top + rows], dim=0)
        total += per_pixel[valid[top:top + rows]].sum(dtype=torch.float64)
    return float(total), count


_CHUNK_VALUES = 2**18
#: Floor of ``q`` in :func:`kl_divergence_of_probabilities`: float32's smallest normal.
_PROBABILITY_FLOOR = float(torch.finfo(torch.float32).tiny)


def kl_divergence_of_probabilities(p: torch.Tensor, q: torch.Tensor) -> float:
    """``KL(p || q)`` of two probability vectors ``(C,)`` in float64 (:func:`kl_divergence`).

    ``q`` is floored at float32's smallest normal so a softmax that underflowed in float32
    gives a large finite value, not ``inf``.
    """
    p = p.reshape(-1).to(torch.float64)
    q = q.reshape(-1).to(torch.float64)
    if p.shape != q.shape:
        raise ValueError(f'probability vectors differ in length: {p.numel()} vs {q.numel()}')
    return float(kl_divergence(torch.log(p), torch.log(q.clamp_min(_PROBABILITY_FLOOR))))


def check_probability_vector(scores: torch.Tensor, name: str, tolerance: float = 1e-3) -> None:
    """Raise ``ValueError`` unless ``scores`` is non-negative and sums to 1 (a softmax)."""
    total = float(scores.to(torch.float64).sum())
    if bool((scores < 0).any()) or not math.isclose(total, 1.0, abs_tol=tolerance):
        raise ValueError(f"'{name}' must be softmax probabilities (non-negative, summing to "
                         f'1), got a vector summing to {total:.6g}; multi-label (sigmoid) '
                         'heads are not supported')


def geometric_mean(a: float, b: float) -> float:
    """``sqrt(a * b)`` (cIoU, cAcc); NaN if either is NaN."""
    return math.sqrt(a * b) if a >= 0 and b >= 0 else float('nan')


def exact_mean(values: Sequence[float]) -> float:
    """Correctly rounded mean (``math.fsum``): independent of the order of ``values``."""
    return math.fsum(values) / len(values) if len(values) else float('nan')


def pixel_flips(reference_logits: torch.Tensor, other_logits: torch.Tensor,
                valid: torch.Tensor) -> tuple[int, int]:
    """``(flips, valid pixels)``: how many valid pixels change their predicted class between
    ``reference_logits`` and ``other_logits`` (``(C, H, W)`` each; ``valid`` ``(H, W)`` or
    ``(1, H, W)`` bool). Separates "predicts the rotated image differently" from "is less
    sure" (which KL also counts)."""
    if reference_logits.shape != other_logits.shape:
        raise ValueError(f'logits differ in shape: {tuple(reference_logits.shape)} vs '
                         f'{tuple(other_logits.shape)}')
    mask = valid.reshape(reference_logits.shape[-2:]).bool()
    changed = reference_logits.argmax(0) != other_logits.argmax(0)
    return int((changed & mask).sum()), int(mask.sum())


def paired_mean_difference(first: Sequence[float], second: Sequence[float]
                           ) -> tuple[float, float]:
    """``(mean of second − first, its standard error)`` over paired per-image values
    (``sd / sqrt(n)`` of the differences; ``nan`` error for fewer than 2 pairs)."""
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
    if first.shape != second.shape or first.ndim != 1:
        raise ValueError(f'paired values need equal 1-D shapes, got {first.shape} and '
                         f'{second.shape}')
    differences = second - first
    error = (float(differences.std(ddof=1) / math.sqrt(differences.size))
             if differences.size > 1 else float('nan'))
    return float(differences.mean()), error


def paired_bootstrap_iou(first: Dict[str, np.ndarray], second: Dict[str, np.ndarray],
                         draws: int = 1000, seed: int = 0) -> Dict[str, tuple[float, float]]:
    """Differences ``second − first`` of mIoU, aIoU and cIoU (x100) with paired bootstrap
    standard errors, from per-image histograms.

    Args:
        first, second: ``{'clean': (n, 4, C), 'rotated': (n, 4, C)}`` per-image histograms
            (``segmentation_histograms``) of two models on the same ``n`` images, same order.
        draws: bootstrap resamples of the images (the same resample for both models).
        seed: numpy seed of the resampling.

    Returns:
        ``{'mIoU' | 'aIoU' | 'cIoU': (difference, standard error)}``.
    """
    arrays = [np.asarray(model[key], np.float64) for model in (first, second)
              for key in ('clean', 'rotated')]
    if len({a.shape for a in arrays}) != 1 or arrays[0].ndim != 3:
        raise ValueError('paired histograms need equal (n, 4, C) shapes, got '
                         f'{[a.shape for a in arrays]}')

    def scores(pick):
        values = []
        for clean, rotated in (arrays[:2], arrays[2:]):
            miou = 100 * float(iou_summary(clean[pick].sum(0))['mIoU'])
            aiou = 100 * float(iou_summary(rotated[pick].sum(0))['mIoU'])
            values.append(np.array([miou, aiou, geometric_mean(miou, aiou)]))
        return values[1] - values[0]

    rng = np.random.default_rng(seed)
    count = arrays[0].shape[0]
    estimate = scores(np.arange(count))
    resampled = np.array([scores(rng.integers(count, size=count)) for _ in range(draws)])
    errors = resampled.std(axis=0, ddof=1)
    return {key: (float(estimate[i]), float(errors[i]))
            for i, key in enumerate(('mIoU', 'aIoU', 'cIoU'))}
