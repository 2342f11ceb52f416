"""RotatedIoUMetric / RotatedAccuracy on hand-built data samples with known answers."""
import math

import pytest
import torch
from mmengine.structures import PixelData
from mmpretrain.structures import DataSample
from mmseg.structures import SegDataSample

from mmsofteq.evaluation import RotatedAccuracy, RotatedIoUMetric
from mmsofteq.structures import rotated_fields as fields

CLASSES = ('background', 'a', 'b')


def seg_sample(index, pred, gt, rotated_pred, rotated_gt, clean_logits=None,
               rotated_logits=None, rotated_clean_logits=None, valid=None):
    """A SegDataSample as written by the rotated loop, converted like mmengine's Evaluator."""
    height, width = gt.shape
    zeros = torch.zeros(len(CLASSES), height, width)
    sample = SegDataSample(metainfo={fields.DATASET_INDEX: index})
    sample.set_data({
        'pred_sem_seg': PixelData(data=pred[None]),
        'gt_sem_seg': PixelData(data=gt[None]),
        'seg_logits': PixelData(data=zeros if clean_logits is None else clean_logits),
        fields.ROTATED_PRED_SEM_SEG: PixelData(data=rotated_pred[None]),
        fields.ROTATED_GT_SEM_SEG: PixelData(data=rotated_gt[None]),
        fields.ROTATED_SEG_LOGITS: PixelData(
            data=zeros if rotated_logits is None else rotated_logits),
        fields.ROTATED_CLEAN_SEG_LOGITS: PixelData(
            data=zeros if rotated_clean_logits is None else rotated_clean_logits),
        fields.ROTATION_VALID_MASK: PixelData(
            data=(torch.ones(height, width, dtype=torch.bool) if valid is None else valid)[None]),
    })
    return sample.to_dict()


def evaluate(metric, samples):
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_iou_keys_and_known_values():
    gt = torch.tensor([[0, 0, 1, 1], [0, 2, 2, 255]])
    pred = torch.tensor([[0, 1, 1, 1], [0, 2, 0, 2]])
    # clean: class0 I=2 U=4, class1 I=2 U=3, class2 I=1 U=2 (pixel under 255 ignored)
    rotated_gt = torch.tensor([[255, 0, 1, 1], [255, 2, 2, 255]])
    rotated_pred = torch.tensor([[1, 0, 1, 0], [1, 2, 2, 1]])
    # rotated: class0 I=1 U=2, class1 I=1 U=2, class2 I=2 U=2
    metrics = evaluate(RotatedIoUMetric(), [seg_sample(0, pred, gt, rotated_pred, rotated_gt)])
    # mmseg's IoUMetric keys (aAcc = pixel accuracy), then the rotated ones
    assert list(metrics) == ['aAcc', 'mIoU', 'mAcc', 'aIoU', 'cIoU', 'eErr', 'flip',
                             'rotated_aAcc', 'rotated_mAcc']
    miou = 100 * (2 / 4 + 2 / 3 + 1 / 2) / 3
    aiou = 100 * (1 / 2 + 1 / 2 + 2 / 2) / 3
    assert metrics['mIoU'] == pytest.approx(miou)
    assert metrics['aIoU'] == pytest.approx(aiou)
    assert metrics['cIoU'] == pytest.approx(math.sqrt(miou * aiou))
    assert metrics['aAcc'] == pytest.approx(100 * 5 / 7)
    assert metrics['rotated_aAcc'] == pytest.approx(100 * 4 / 5)
    assert metrics['mAcc'] == pytest.approx(100 * (2 / 3 + 2 / 2 + 1 / 2) / 3)
    assert metrics['eErr'] == 0.0


def test_ious_sum_histograms_over_images():
    gt = torch.tensor([[0, 1]])
    first = seg_sample(0, torch.tensor([[0, 1]]), gt, torch.tensor([[0, 1]]), gt)
    second = seg_sample(1, torch.tensor([[1, 1]]), gt, torch.tensor([[0, 0]]), gt)
    metrics = evaluate(RotatedIoUMetric(), [first, second])
    # clean totals: class0 I=1 U=2, class1 I=2 U=3; rotated: class0 I=2 U=3, class1 I=1 U=2
    assert metrics['mIoU'] == pytest.approx(100 * (1 / 2 + 2 / 3) / 2)
    assert metrics['aIoU'] == pytest.approx(100 * (2 / 3 + 1 / 2) / 2)


def test_eErr_is_x100_mean_over_images_of_valid_pixel_mean_kl_in_the_documented_direction():
    generator = torch.Generator().manual_seed(0)
    gt = torch.zeros(3, 4, dtype=torch.long)
    samples, per_image, per_image_reverse = [], [], []
    for index in range(2):
        rot_of_clean = torch.randn(3, 3, 4, generator=generator) * 3
        of_rotated = torch.randn(3, 3, 4, generator=generator) * 3
        valid = torch.rand(3, 4, generator=generator) > 0.3
        # garbage outside the valid pixels must not matter
        of_rotated[:, ~valid] = 1e4 * torch.arange(3.0)[:, None]
        p = torch.softmax(rot_of_clean.double(), 0)
        q = torch.softmax(of_rotated.double(), 0)
        per_image.append(float((p * (p.log() - q.log())).sum(0)[valid].mean()))
        per_image_reverse.append(float((q * (q.log() - p.log())).sum(0)[valid].mean()))
        samples.append(seg_sample(index, gt, gt, gt, gt, rotated_logits=of_rotated,
                                  rotated_clean_logits=rot_of_clean, valid=valid))
    metrics = evaluate(RotatedIoUMetric(), samples)
    expected = 100 * sum(per_image) / 2
    assert metrics['eErr'] == pytest.approx(expected, rel=1e-6)  # float32 per-pixel terms
    assert abs(metrics['eErr'] - 100 * sum(per_image_reverse) / 2) > 1e-3 * expected


def test_ignored_pixels_count_in_eErr_but_not_in_iou():
    gt = torch.tensor([[255, 255], [0, 0]])
    rot_of_clean = torch.zeros(3, 2, 2)
    of_rotated = torch.zeros(3, 2, 2)
    of_rotated[0, 0, :] = 5.0  # disagreement only at the two ignore-labelled pixels
    pred = torch.tensor([[1, 1], [0, 0]])
    metrics = evaluate(RotatedIoUMetric(), [seg_sample(0, pred, gt, pred, gt,
                                                      rotated_logits=of_rotated,
                                                      rotated_clean_logits=rot_of_clean)])
    assert metrics['mIoU'] == 100.0  # predictions of class 1 on ignored pixels do not count
    assert metrics['eErr'] > 0


def test_missing_rotated_fields_or_logits_raise_clear_errors():
    sample = SegDataSample()
    sample.pred_sem_seg = PixelData(data=torch.zeros(1, 2, 2, dtype=torch.long))
    sample.gt_sem_seg = PixelData(data=torch.zeros(1, 2, 2, dtype=torch.long))
    metric = RotatedIoUMetric()
    metric.dataset_meta = dict(classes=CLASSES)
    with pytest.raises(ValueError, match='RotatedValLoop'):
        metric.process({}, [sample.to_dict()])
    gt = torch.zeros(2, 2, dtype=torch.long)
    single = seg_sample(0, gt, gt, gt, gt, clean_logits=torch.zeros(1, 2, 2))
    with pytest.raises(ValueError, match='multi-class'):
        metric.process({}, [single])


def cls_sample(index, label, clean_scores, rotated_scores):
    sample = DataSample(metainfo={fields.DATASET_INDEX: index}).set_gt_label(label)
    sample.set_pred_score(torch.tensor(clean_scores))
    sample.set_field(torch.tensor(rotated_scores), fields.ROTATED_PRED_SCORE)
    return sample.to_dict()


def test_accuracy_keys_and_known_values():
    samples = [
        cls_sample(0, 0, [0.7, 0.2, 0.1], [0.4, 0.5, 0.1]),  # clean right, rotated wrong
        cls_sample(1, 1, [0.1, 0.8, 0.1], [0.1, 0.8, 0.1]),  # both right, KL 0
        cls_sample(2, 2, [0.5, 0.25, 0.25], [0.25, 0.25, 0.5]),  # clean wrong, rotated right
        cls_sample(3, 2, [0.6, 0.3, 0.1], [0.6, 0.3, 0.1]),  # both wrong
    ]
    metrics = evaluate(RotatedAccuracy(), samples)
    # mmpretrain's Accuracy key, then the rotated ones (the paper's aAcc is rotated_accuracy)
    assert list(metrics) == ['accuracy/top1', 'rotated_accuracy/top1', 'cAcc', 'iErr']
    assert metrics['accuracy/top1'] == 50.0 and metrics['rotated_accuracy/top1'] == 50.0
    assert metrics['cAcc'] == pytest.approx(50.0)

    def kl(p, q):
        return sum(a * math.log(a / b) for a, b in zip(p, q))

    expected = 100 * (kl([0.7, 0.2, 0.1], [0.4, 0.5, 0.1]) + 0
                      + kl([0.5, 0.25, 0.25], [0.25, 0.25, 0.5]) + 0) / 4
    assert metrics['iErr'] == pytest.approx(expected, rel=1e-6)


def test_accuracy_cAcc_is_geometric_mean():
    samples = [cls_sample(i, 0, [0.9, 0.1], [0.9, 0.1] if i < 1 else [0.1, 0.9])
               for i in range(4)]
    metrics = evaluate(RotatedAccuracy(), samples)
    assert metrics['accuracy/top1'] == 100.0 and metrics['rotated_accuracy/top1'] == 25.0
    assert metrics['cAcc'] == pytest.approx(50.0)


def test_accuracy_rejects_outputs_without_scores_or_with_non_probabilities():
    metric = RotatedAccuracy()
    labels_only = DataSample().set_gt_label(0).set_pred_label(0)
    with pytest.raises(ValueError, match='pred_score'):
        metric.process({}, [labels_only.to_dict()])
    with pytest.raises(ValueError, match='softmax'):
        metric.process({}, [cls_sample(0, 0, [3.0, -1.0], [0.5, 0.5])])


def test_accuracy_ties_follow_argmax_and_topk_adds_keys():
    samples = [
        cls_sample(0, 1, [0.25, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25]),  # argmax = 0
        cls_sample(1, 0, [0.25, 0.25, 0.25, 0.25], [0.1, 0.2, 0.3, 0.4]),  # clean right
        cls_sample(2, 2, [0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]),  # rank 1 / rank 2
    ]
    metrics = evaluate(RotatedAccuracy(topk=(1, 2)), samples)
    assert metrics['accuracy/top1'] == pytest.approx(100 / 3)
    assert metrics['rotated_accuracy/top1'] == 0.0
    assert metrics['cAcc'] == 0.0
    # top-2: sample 0 (label 1 tied second) in both; sample 2 clean (rank 1) only
    assert metrics['accuracy/top2'] == pytest.approx(300 / 3)
    assert metrics['rotated_accuracy/top2'] == pytest.approx(100 / 3)
    with pytest.raises(ValueError, match='topk'):
        RotatedAccuracy(topk=(0, ))


def test_inherited_mmseg_and_mmpretrain_evaluator_arguments_are_accepted():
    assert RotatedIoUMetric(iou_metrics=['mIoU']).ignore_index == 255
    with pytest.raises(ValueError, match='mDice'):
        RotatedIoUMetric(iou_metrics=['mIoU', 'mDice'])
    assert RotatedAccuracy(topk=(1, 5)).topk == (1, 5)


def test_clean_keys_equal_the_ecosystems_own_metrics():
    """Drop-in: the clean keys are mmseg's IoUMetric / mmpretrain's Accuracy, same values
    (theirs rounded to two decimals), and the loop's pairing leaves them out of ours."""
    from mmpretrain.evaluation import Accuracy
    from mmseg.evaluation import IoUMetric

    generator = torch.Generator().manual_seed(3)
    samples = []
    for index in range(4):
        gt = torch.randint(0, 3, (6, 7), generator=generator)
        gt[0, index] = 255
        pred = torch.randint(0, 3, (6, 7), generator=generator)
        samples.append(seg_sample(index, pred, gt, pred, gt))
    ours = evaluate(RotatedIoUMetric(), samples)
    theirs = evaluate(IoUMetric(iou_metrics=['mIoU']), samples)
    assert set(theirs) == {'aAcc', 'mIoU', 'mAcc'}
    assert all(round(ours[key], 2) == pytest.approx(theirs[key]) for key in theirs)
    paired = evaluate(RotatedIoUMetric(clean_metrics=False), samples)
    assert not set(paired) & set(theirs) and paired['aIoU'] == pytest.approx(ours['mIoU'])

    scores = torch.softmax(torch.randn(6, 4, generator=generator), dim=1)
    labels = [0, 1, 2, 3, 1, 2]
    cls_samples = [cls_sample(i, label, score.tolist(), score.tolist())
                   for i, (label, score) in enumerate(zip(labels, scores))]
    ours = evaluate(RotatedAccuracy(topk=(1, 2)), cls_samples)
    theirs = evaluate(Accuracy(topk=(1, 2)), cls_samples)
    assert set(theirs) == {'accuracy/top1', 'accuracy/top2'}
    assert all(ours[key] == pytest.approx(theirs[key]) for key in theirs)


def test_nan_to_num_applies_to_the_clean_and_the_rotated_scores_alike():
    """A class absent from both prediction and label (U = 0): with ``nan_to_num=0`` its IoU
    is 0 in the clean and in the rotated scores, so identical clean and rotated predictions
    give aIoU = mIoU = mmseg's IoUMetric(nan_to_num=0), here (2/3 + 3/4 + 0)/3."""
    from mmseg.evaluation import IoUMetric

    gt = torch.tensor([[0, 0, 1], [0, 1, 1]])
    pred = torch.tensor([[0, 0, 1], [1, 1, 1]])   # class 2 nowhere
    samples = [seg_sample(0, pred, gt, pred, gt)]
    ours = evaluate(RotatedIoUMetric(nan_to_num=0), samples)
    theirs = evaluate(IoUMetric(iou_metrics=['mIoU'], nan_to_num=0), samples)
    expected = 100 * (2 / 3 + 3 / 4 + 0) / 3  # class 0: I 2, U 3; class 1: I 3, U 4
    assert ours['mIoU'] == pytest.approx(expected)
    assert round(ours['mIoU'], 2) == pytest.approx(theirs['mIoU'])
    assert ours['aIoU'] == pytest.approx(ours['mIoU'])


def test_eerr_pixel_reduction_pools_valid_pixels_over_the_set():
    big, small = torch.ones(4, 4, dtype=torch.bool), torch.zeros(4, 4, dtype=torch.bool)
    small[0, 0] = True
    logits = torch.tensor([2.0, 0.0, 0.0])[:, None, None].expand(3, 4, 4)
    gt = torch.zeros(4, 4, dtype=torch.long)
    # image 0: KL 0 on 16 valid pixels; image 1: KL k on its 1 valid pixel
    samples = [seg_sample(0, gt, gt, gt, gt, logits, logits, logits, big),
               seg_sample(1, gt, gt, gt, gt, logits, logits.flip(0), logits, small)]
    p = torch.softmax(torch.tensor([2.0, 0.0, 0.0]), 0)
    k = float((p * (p.log() - p.flip(0).log())).sum())
    per_image = evaluate(RotatedIoUMetric(), samples)['eErr']
    per_pixel = evaluate(RotatedIoUMetric(eerr_reduction='pixel'), samples)['eErr']
    assert per_image == pytest.approx(100 * k / 2, rel=1e-6)
    assert per_pixel == pytest.approx(100 * k / 17, rel=1e-6)
    with pytest.raises(ValueError, match='eerr_reduction'):
        RotatedIoUMetric(eerr_reduction='batch')


@pytest.mark.parametrize('metric_type', [RotatedIoUMetric, RotatedAccuracy])
def test_building_a_rotated_metric_never_warns_about_its_prefix(metric_type, recwarn):
    """mmengine's ``BaseMetric`` warns "prefix is not set" when a metric class has no
    ``default_prefix``; ours set an empty one (keys stay mmseg's / mmpretrain's)."""
    import logging

    from mmengine.logging import MMLogger

    records = []

    class _Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    handler = _Keep()
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        metric = metric_type()
    finally:
        logger.removeHandler(handler)
    texts = records + [str(warning.message) for warning in recwarn]
    assert not [text for text in texts if 'prefix' in text.lower()], texts
    assert metric.prefix == ''


def test_flip_rate_counts_valid_pixels_whose_class_changes_and_records_reach_the_file(tmp_path):
    """Hand case: 2 images. Image 0: 3 of its 4 valid pixels keep their argmax, one flips;
    image 1: both valid pixels flip. 'image' reduction: (1/4 + 2/2)/2; 'pixel': 3/6."""
    import json

    import numpy as np

    def logits(classes):  # one-hot logits (3, 1, W) of a class map
        return torch.nn.functional.one_hot(torch.tensor([classes]), len(CLASSES)).permute(
            2, 0, 1).float()

    gt = torch.zeros(1, 5, dtype=torch.long)
    samples = [seg_sample(index, gt, gt, gt, gt, clean_logits=logits(reference),
                          rotated_logits=logits(other), rotated_clean_logits=logits(reference),
                          valid=torch.tensor([valid]).bool())
               for index, (reference, other, valid) in enumerate([
                   ([0, 1, 1, 0, 1], [0, 1, 0, 0, 0], [1, 1, 1, 1, 0]),
                   ([0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0])])]
    out = tmp_path / 'records.json'
    metrics = evaluate(RotatedIoUMetric(per_image_file=str(out)), samples)
    assert metrics['flip'] == pytest.approx(100 * (1 / 4 + 2 / 2) / 2)
    pixel = evaluate(RotatedIoUMetric(eerr_reduction='pixel'), samples)
    assert pixel['flip'] == pytest.approx(100 * 3 / 6)
    records = json.loads(out.read_text())
    assert [(r['index'], r['flips'], r['valid']) for r in records] == [(0, 1, 4), (1, 2, 2)]
    assert np.asarray(records[0]['clean']).shape == (4, len(CLASSES))


def test_paired_statistics_against_hand_values():
    import numpy as np

    from mmsofteq.evaluation.statistics import paired_bootstrap_iou, paired_mean_difference
    difference, error = paired_mean_difference([1.0, 2.0, 3.0], [2.0, 2.0, 5.0])
    assert difference == pytest.approx(1.0)                    # differences 1, 0, 2
    assert error == pytest.approx(1.0 / math.sqrt(3))          # sd 1
    # two images, one class: model A hits image 0 only, model B both (clean and rotated)
    first = np.array([[[1, 1, 1, 1]], [[0, 1, 0, 1]]], dtype=float).transpose(0, 2, 1)
    second = np.array([[[1, 1, 1, 1]], [[1, 1, 1, 1]]], dtype=float).transpose(0, 2, 1)
    result = paired_bootstrap_iou(dict(clean=first, rotated=first),
                                  dict(clean=second, rotated=second), draws=400, seed=0)
    for key in ('mIoU', 'aIoU', 'cIoU'):
        value, spread = result[key]
        assert value == pytest.approx(100 * (1 - 1 / 2))
        # resamples give 0 (image 0 twice, p 1/4), 50 (p 1/2) or 100 (p 1/4): sd √1250 ≈ 35
        assert 25 < spread < 45


def test_worst_case_iou_takes_each_images_least_accurate_angle():
    """Two images, k = 3 angles each (hand counts): image 0's worst angle is draw 2 (1 of 4
    labelled pixels right), image 1's is draw 0 (its draw 1 has no labelled pixel and never
    counts as the worst); wIoU is the mIoU of those two histograms."""
    gt = torch.tensor([[0, 1], [2, 2]])
    samples = []
    draws = {0: ([[[0, 1], [2, 2]], [[0, 1], [2, 0]], [[1, 1], [0, 0]]],
                 [[[0, 1], [2, 2]]] * 3),
             1: ([[[0, 0], [2, 2]], [[1, 1], [1, 1]], [[0, 1], [2, 2]]],
                 [[[0, 1], [2, 2]], [[255, 255], [255, 255]], [[0, 1], [2, 2]]])}
    for index, (predictions, labels) in draws.items():
        sample = seg_sample(index, gt, gt, gt, gt)
        sample[fields.WORST_CASE_PRED_SEM_SEG] = dict(data=torch.tensor(predictions))
        sample[fields.WORST_CASE_GT_SEM_SEG] = dict(data=torch.tensor(labels))
        samples.append(sample)
    metrics = evaluate(RotatedIoUMetric(), samples)
    # image 0, draw 2: pred [[1,1],[0,0]] vs gt [[0,1],[2,2]]: class0 I0 U3, class1 I1 U2,
    # class2 I0 U2; image 1, draw 0: pred [[0,0],[2,2]]: class0 I1 U2, class1 I0 U1, class2 I2 U2
    expected = 100 * ((0 + 1) / (3 + 2) + (1 + 0) / (2 + 1) + (0 + 2) / (2 + 2)) / 3
    assert metrics['wIoU'] == pytest.approx(expected)
    assert metrics['w_aAcc'] == pytest.approx(100 * 4 / 8)


def test_worst_case_accuracy_needs_every_angle_right():
    samples = [cls_sample(0, 0, [0.7, 0.2, 0.1], [0.6, 0.3, 0.1]),
               cls_sample(1, 1, [0.1, 0.8, 0.1], [0.1, 0.8, 0.1])]
    samples[0][fields.WORST_CASE_PRED_SCORE] = torch.tensor(
        [[0.6, 0.3, 0.1], [0.5, 0.4, 0.1], [0.9, 0.05, 0.05]])  # right at all three
    samples[1][fields.WORST_CASE_PRED_SCORE] = torch.tensor(
        [[0.1, 0.8, 0.1], [0.5, 0.4, 0.1], [0.1, 0.8, 0.1]])    # wrong at the second
    metrics = evaluate(RotatedAccuracy(), samples)
    assert metrics['rotated_accuracy/top1'] == 100.0 and metrics['wAcc'] == 50.0
    del samples[1][fields.WORST_CASE_PRED_SCORE]
    with pytest.raises(ValueError, match='1 of 2 samples carry worst-case scores'):
        evaluate(RotatedAccuracy(), samples)
