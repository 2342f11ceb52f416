"""The rotated forward pass of one evaluation batch.

Given a batch and the model's clean outputs, :class:`RotatedPredictionWriter`

1. looks up each sample's angle from its dataset index (:class:`AngleSampler`);
2. runs the model's ``data_preprocessor`` (normalisation, padding) on a copy of the batch
   whose data samples were cloned before the clean pass (:meth:`~RotatedPredictionWriter
   .isolate`), so the rotated predict path cannot overwrite the clean predictions;
3. rotates each image's content region of the normalised ``inputs`` (bilinear, centre
   pivot, fill 0, no expand) in the geometry of its label frame;
4. calls the model's predict path, ``model(inputs, data_samples, mode='predict')``;
5. writes the rotated predictions, and the rotated ground truth/logits/valid mask needed
   by the metrics, into the clean outputs under the names of :mod:`.rotated_fields`.

It works for any mmseg segmentor (outputs with ``seg_logits``) and any mmpretrain
classifier (outputs with ``pred_score``); a model whose outputs lack them is rejected.
"""
from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple

import torch
from mmengine.model import is_model_wrapper
from mmengine.structures import BaseDataElement, PixelData

from ...nn.evaluation_angles import AngleSampler
from ...structures import rotated_fields as fields
from ...structures.sample_checks import check_finite_inputs
from ...utils.rotation import content_region, rotate_field, rotate_label_map, rotation_valid_mask

TASKS = ('auto', 'segmentation', 'classification')


class _TaskRotation:
    """What differs between tasks in the rotated pass: the output field holding the model's
    scores (``scores_field``, with ``scores_hint`` in the error), the frame whose geometry
    defines the rotation of an image (:meth:`frame`), and what is written back
    (:meth:`attach`)."""

    name: str
    scores_field: str
    scores_hint: str

    def check_logits(self, samples: Sequence[BaseDataElement], which: str) -> None:
        for sample in samples:
            if self.scores_field not in sample:
                raise ValueError(
                    f'rotated evaluation needs the {self.name} scores, but the {which} model '
                    f"output has no '{self.scores_field}' (fields: {sorted(sample.keys())}); "
                    f'use {self.scores_hint}')

    def frame(self, sample: BaseDataElement, output: BaseDataElement):
        """``(H, W)`` of the frame the rotation is defined in (``None``: the image's own)."""
        return None

    def rotate_inputs(self, inputs: torch.Tensor, samples: Sequence[BaseDataElement],
                      outputs: Sequence[BaseDataElement], angles: Sequence[float]) -> torch.Tensor:
        """Each image's content region of ``inputs`` rotated by its angle in its frame."""
        rotated = inputs.clone()
        for i, (sample, output, angle) in enumerate(zip(samples, outputs, angles)):
            frame = self.frame(sample, output)
            top, bottom, left, right = content_region(sample.metainfo, inputs.shape[-2:])
            rotated[i, :, top:bottom, left:right] = rotate_field(
                inputs[i, :, top:bottom, left:right], angle, frame, mode='bilinear')
        return rotated


class SegmentationRotation(_TaskRotation):
    """Rotation of mmseg inputs/outputs; the frame is the label map (``seg_logits``)."""

    name = 'segmentation'
    scores_field = 'seg_logits'
    scores_hint = 'an mmseg segmentor whose predict() returns SegDataSample.seg_logits'

    def __init__(self, ignore_index: int) -> None:
        self.ignore_index = ignore_index

    def frame(self, sample: BaseDataElement, output: BaseDataElement):
        if sample.metainfo.get('flip', False):
            raise NotImplementedError(
                'rotated evaluation of flipped test images (flip=True metainfo, e.g. '
                'test-time augmentation) is not supported')
        return tuple(output.seg_logits.shape[-2:])

    def attach(self, output: BaseDataElement, rotated: BaseDataElement, angle: float) -> None:
        clean_logits = output.seg_logits.data
        rotated_logits = rotated.seg_logits.data
        if rotated_logits.shape != clean_logits.shape:
            raise ValueError(f'rotated logits {tuple(rotated_logits.shape)} and clean logits '
                             f'{tuple(clean_logits.shape)} differ in shape')
        frame = tuple(clean_logits.shape[-2:])
        in_view = rotation_valid_mask(frame, angle, frame, clean_logits.device)
        new_fields = {
            fields.ROTATED_SEG_LOGITS: PixelData(data=rotated_logits),
            fields.ROTATED_PRED_SEM_SEG: PixelData(data=rotated.pred_sem_seg.data),
            fields.ROTATED_CLEAN_SEG_LOGITS: PixelData(
                data=rotate_field(clean_logits, angle, frame, mode='bilinear')),
            fields.ROTATION_VALID_MASK: PixelData(data=in_view[None]),
        }
        if 'gt_sem_seg' in output:
            labels = output.gt_sem_seg.data
            if tuple(labels.shape[-2:]) != frame:
                raise ValueError(
                    f'gt_sem_seg {tuple(labels.shape[-2:])} and seg_logits {frame} differ in '
                    'size; load annotations after Resize in the test pipeline (as mmseg does) '
                    'so labels stay at ori_shape')
            new_fields[fields.ROTATED_GT_SEM_SEG] = PixelData(
                data=rotate_label_map(labels, angle, self.ignore_index, frame, in_view))
        output.set_data(new_fields)

    def attach_draws(self, output: BaseDataElement, rotated: Sequence[BaseDataElement],
                     angles: Sequence[float]) -> None:
        """The ``k`` rotated predictions ``(k, H, W)`` and, with labels, the ``k`` rotated
        label maps, for the worst-case metrics."""
        frame = tuple(output.seg_logits.data.shape[-2:])
        predictions = torch.cat([sample.pred_sem_seg.data for sample in rotated])
        new_fields = {fields.WORST_CASE_PRED_SEM_SEG: PixelData(data=predictions)}
        if 'gt_sem_seg' in output:
            labels = output.gt_sem_seg.data
            new_fields[fields.WORST_CASE_GT_SEM_SEG] = PixelData(data=torch.cat([
                rotate_label_map(labels, angle, self.ignore_index, frame,
                                 rotation_valid_mask(frame, angle, frame, labels.device))
                for angle in angles]))
        output.set_data(new_fields)
        output.set_metainfo({fields.WORST_CASE_ANGLES: [float(a) for a in angles]})


class ClassificationRotation(_TaskRotation):
    """Rotation of mmpretrain inputs/outputs; the frame is the image content itself."""

    name = 'classification'
    scores_field = 'pred_score'
    scores_hint = ('an mmpretrain classifier whose head sets DataSample.pred_score (softmax of '
                   'the logits)')

    def attach(self, output: BaseDataElement, rotated: BaseDataElement, angle: float) -> None:
        output.set_field(rotated.pred_score, fields.ROTATED_PRED_SCORE)
        if 'pred_label' in rotated:
            output.set_field(rotated.pred_label, fields.ROTATED_PRED_LABEL)

    def attach_draws(self, output: BaseDataElement, rotated: Sequence[BaseDataElement],
                     angles: Sequence[float]) -> None:
        """The ``k`` rotated score vectors ``(k, C)`` for the worst-case metrics."""
        output.set_field(torch.stack([sample.pred_score for sample in rotated]),
                         fields.WORST_CASE_PRED_SCORE)
        output.set_metainfo({fields.WORST_CASE_ANGLES: [float(a) for a in angles]})


class RotatedPredictionWriter:
    """Runs the rotated pass of a batch and writes it into the clean outputs (in place).

    Args:
        angles: an :class:`~mmsofteq.nn.evaluation_angles.AngleSampler` or its config dict
            (``None``: :data:`~mmsofteq.nn.evaluation_angles.DEFAULT_ANGLES`).
        task: ``'segmentation'``, ``'classification'`` or ``'auto'`` (from the outputs:
            ``pred_sem_seg``/``gt_sem_seg`` means segmentation, ``pred_score``/
            ``pred_label``/``gt_label`` classification).
        ignore_index: label written where rotated labels come from outside the view.
        worst_of: ``k >= 2`` runs ``k − 1`` more rotated passes per batch, at the sample's
            next draws of its angle generator (``AngleSampler.angles_for``; the first is the
            pass above), and writes the ``k`` rotated predictions (segmentation: and rotated
            labels) for the worst-case metrics (``wIoU`` / ``wAcc``); ``None``: off.
    """

    def __init__(self, angles=None, task: str = 'auto', ignore_index: int = 255,
                 worst_of: Optional[int] = None) -> None:
        if task not in TASKS:
            raise ValueError(f'task must be one of {TASKS}, got {task!r}')
        if worst_of is not None and (isinstance(worst_of, bool) or not isinstance(worst_of, int)
                                     or worst_of < 2):
            raise ValueError(f'worst_of must be None or an integer >= 2 (the angles per image '
                             f'of the worst-case metrics), got {worst_of!r}')
        self.angle_sampler = AngleSampler.from_config(angles)
        self.task = task
        self.ignore_index = int(ignore_index)
        self.worst_of = worst_of

    def _task_of(self, output: BaseDataElement):
        task = self.task
        if task == 'auto':
            if 'pred_sem_seg' in output or 'gt_sem_seg' in output:
                task = 'segmentation'
            elif any(key in output for key in ('pred_score', 'pred_label', 'gt_label')):
                task = 'classification'
            else:
                raise ValueError(
                    'cannot tell the task of the model outputs (no pred_sem_seg/gt_sem_seg '
                    f'nor pred_score/pred_label/gt_label; fields: {sorted(output.keys())}); '
                    "set task='segmentation' or 'classification' on the loop")
        if task == 'segmentation':
            return SegmentationRotation(self.ignore_index)
        return ClassificationRotation()

    @staticmethod
    def dataset_indices(outputs: Sequence[BaseDataElement]) -> List[int]:
        indices = []
        for output in outputs:
            index = output.metainfo.get(fields.DATASET_INDEX)
            if index is None:
                raise ValueError(
                    "rotated evaluation needs each sample's dataset index in metainfo "
                    f"'{fields.DATASET_INDEX}'; give the loop its dataloader as a config dict "
                    "(it then wraps the dataset) or pack 'sample_idx' in the test pipeline")
            indices.append(int(index))
        return indices

    def angles_for(self, outputs: Sequence[BaseDataElement]) -> List[float]:
        """Angles (degrees) of the samples of ``outputs``, from their dataset indices."""
        return [self.angle_sampler.angle_for(i) for i in self.dataset_indices(outputs)]

    @staticmethod
    def isolate(data_batch: Any) -> Any:
        """A copy of ``data_batch`` whose data samples are clones, taken *before* the clean
        pass: some preprocessors (mmpretrain's) hand the batch's own data samples to the
        model, whose predict path writes into them, so the rotated pass must not share
        them with the clean outputs. Inputs are shared (preprocessors do not modify them)."""
        if isinstance(data_batch, dict) and isinstance(data_batch.get('data_samples'), list):
            isolated = dict(data_batch)
            isolated['data_samples'] = [
                sample.clone() if isinstance(sample, BaseDataElement) else sample
                for sample in data_batch['data_samples']
            ]
            return isolated
        return data_batch

    @torch.no_grad()
    def __call__(self, model: torch.nn.Module, data_batch: Any,
                 outputs: Sequence[BaseDataElement]) -> None:
        """Add the rotated predictions of ``data_batch`` to ``outputs`` (the clean
        predictions of the same batch, in the same order).

        ``data_batch`` must not share data samples with ``outputs``: pass
        ``isolate(batch)`` taken before the clean pass.
        """
        if len(outputs) == 0:
            return
        module = model.module if is_model_wrapper(model) else model
        task = self._task_of(outputs[0])
        task.check_logits(outputs, 'clean')
        angles = self.angles_for(outputs)

        data = module.data_preprocessor(data_batch, False)
        inputs, samples = _unpack(data)
        if not isinstance(inputs, torch.Tensor) or inputs.ndim != 4:
            raise TypeError('rotated evaluation needs the data preprocessor to return a '
                            f'(B, C, H, W) tensor, got {type(inputs).__name__}')
        if len(samples) != len(outputs):
            raise ValueError(f'batch has {len(samples)} samples but the model returned '
                             f'{len(outputs)} outputs')
        check_finite_inputs(inputs, samples, 'the clean and rotated metrics')
        rotated_inputs = task.rotate_inputs(inputs, samples, outputs, angles)
        # As the clean pass's val_step: DDP wrappers call the inner module, an FSDP wrapper
        # runs its own forward (it gathers the sharded parameters there).
        forward = model if _is_fsdp_wrapper(model) else module
        rotated_outputs = forward(rotated_inputs, samples, mode='predict')
        task.check_logits(rotated_outputs, 'rotated')
        if any(rotated is clean for rotated, clean in zip(rotated_outputs, outputs)):
            raise RuntimeError('the rotated pass wrote into the clean outputs; give it a batch '
                               'from RotatedPredictionWriter.isolate() taken before the clean '
                               'pass')
        for output, rotated, angle in zip(outputs, rotated_outputs, angles):
            task.attach(output, rotated, angle)
            output.set_metainfo({fields.ROTATION_ANGLE: float(angle)})
        if self.worst_of:
            draws = [self.angle_sampler.angles_for(i, self.worst_of)
                     for i in self.dataset_indices(outputs)]
            per_draw = [rotated_outputs]
            for draw in range(1, self.worst_of):
                draw_angles = [angles_of[draw] for angles_of in draws]
                # predict paths write into the samples they get and return them: each draw
                # gets its own clones, or every draw would hold the last one's predictions
                per_draw.append(forward(task.rotate_inputs(inputs, samples, outputs, draw_angles),
                                        [sample.clone() for sample in samples], mode='predict'))
            for i, output in enumerate(outputs):
                task.attach_draws(output, [predictions[i] for predictions in per_draw], draws[i])


def _is_fsdp_wrapper(model: torch.nn.Module) -> bool:
    try:
        from torch.distributed.fsdp import FullyShardedDataParallel
    except ImportError:  # pragma: no cover
        return False
    return isinstance(model, FullyShardedDataParallel)


def _unpack(data) -> Tuple[torch.Tensor, list]:
    if isinstance(data, dict):
        return data['inputs'], list(data.get('data_samples') or [])
    if isinstance(data, (list, tuple)) and len(data) == 2:
        return data[0], list(data[1] or [])
    raise TypeError(f'unexpected data preprocessor output of type {type(data).__name__}')
