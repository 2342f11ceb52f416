"""RotatedTestLoop + RotatedAccuracy with the real Runner and mmpretrain classifiers."""
import numpy as np
import pytest
import torch
from fixtures.rotated_eval import (MEAN, STD, OutputRecorder, PointwiseBackbone,
                                   ScoreFreeClassifier, build_classifier, classification_dataloader,
                                   classifier_cfg, make_runner, tiny_resnet_cfg, write_image_folder)

from mmsofteq.nn.evaluation_angles import AngleSampler

pytestmark = pytest.mark.slow  # real Runner / subprocess runs

METRIC = 'mmsofteq.RotatedAccuracy'
NUM_CLASSES = 3


@pytest.fixture(scope='module')
def image_folder(tmp_path_factory):
    """3 classes x 3 square images of two sizes (12 and 16 px), so batches of 2 are padded."""
    return write_image_folder(str(tmp_path_factory.mktemp('images')), NUM_CLASSES, 3,
                              sizes=[(12, 12), (16, 16)], seed=0)


def test_pointwise_pooled_classifier_is_exactly_c4_invariant_in_padded_batches(
        image_folder, tmp_path):
    """1x1 convs + global average pooling are rot90-invariant: iErr = 0 and aAcc = Acc under
    C4, with batches of two sizes padded by the preprocessor (only content is rotated)."""
    sampler = AngleSampler(kind='cyclic', order=4, seed=0)
    assert len({sampler.angle_for(i) for i in range(9)} - {0.0}) >= 2
    model = build_classifier(classifier_cfg(dict(type=PointwiseBackbone, out_channels=8), 8,
                                            NUM_CLASSES), seed=3, scale=2.0)
    runner = make_runner(model, str(tmp_path), classification_dataloader(image_folder,
                                                                         batch_size=2),
                         METRIC, sampler.to_config(), 'mmpretrain')
    recorder = OutputRecorder()
    runner.register_hook(recorder)
    metrics = runner.test()
    assert sorted(m['sample_idx'] for m in recorder.metainfo) == list(range(9))
    assert all(m['rotation_angle'] == sampler.angle_for(m['sample_idx'])
               for m in recorder.metainfo)
    assert set(metrics) == {'accuracy/top1', 'rotated_accuracy/top1', 'cAcc', 'iErr'}
    # float32: the quarter turn permutes the pooling's summation order (iErr 1.2e-6 on an
    # AMD EPYC, < 1e-6 on the earlier machine); a model that is not invariant gives > 1
    assert metrics['iErr'] < 1e-4
    assert metrics['rotated_accuracy/top1'] == metrics['accuracy/top1']


def _normalised(dataset, index):
    image = dataset[index]['inputs'][[2, 1, 0]].float()
    return ((image - torch.tensor(MEAN)[:, None, None]) / torch.tensor(STD)[:, None, None])[None]


def test_resnet_iErr_and_accuracies_match_a_direct_computation(image_folder, tmp_path):
    """iErr = 100 * mean_x KL(softmax f(x) || softmax f(rot x)), rot = 90 degrees here."""
    model = build_classifier(tiny_resnet_cfg(NUM_CLASSES), seed=0, scale=None)
    with torch.no_grad():  # confident logits: KLs well above float32 rounding
        model.head.fc.weight.mul_(30.0)
    runner = make_runner(model, str(tmp_path), classification_dataloader(image_folder), METRIC,
                         dict(kind='list', values=[90]), 'mmpretrain')
    metrics = runner.test()

    dataset = runner.test_dataloader.dataset
    kls, reverse_kls, correct, rotated_correct = [], [], [], []
    with torch.no_grad():
        for index in range(len(dataset)):
            image = _normalised(dataset, index)
            label = int(dataset[index]['data_samples'].gt_label)
            p = torch.softmax(model(image, mode='tensor')[0].double(), 0)
            rotated = torch.rot90(image, 1, dims=(-2, -1)).contiguous()
            q = torch.softmax(model(rotated, mode='tensor')[0].double(), 0)
            kls.append(float((p * (p.log() - q.log())).sum()))
            reverse_kls.append(float((q * (q.log() - p.log())).sum()))
            correct.append(int(p.argmax()) == label)
            rotated_correct.append(int(q.argmax()) == label)
    expected = 100 * np.mean(kls)
    assert expected > 0.1
    assert metrics['iErr'] == pytest.approx(expected, rel=1e-6)
    assert abs(metrics['iErr'] - 100 * np.mean(reverse_kls)) > 1e-3 * expected
    assert metrics['accuracy/top1'] == pytest.approx(100 * np.mean(correct))
    assert metrics['rotated_accuracy/top1'] == pytest.approx(100 * np.mean(rotated_correct))
    assert metrics['cAcc'] == pytest.approx(
        np.sqrt(metrics['accuracy/top1'] * metrics['rotated_accuracy/top1']))


def test_classifier_output_without_scores_is_rejected(image_folder, tmp_path):
    cfg = classifier_cfg(dict(type=PointwiseBackbone, out_channels=8), 8, NUM_CLASSES)
    cfg['type'] = ScoreFreeClassifier
    model = build_classifier(cfg, seed=0)
    runner = make_runner(model, str(tmp_path), classification_dataloader(image_folder), METRIC,
                         None, 'mmpretrain')
    with pytest.raises(ValueError, match="no 'pred_score'"):
        runner.test()


class _DrawRecorder(OutputRecorder):
    """Also keeps each output's rotated and worst-case scores, by dataset index."""

    def __init__(self) -> None:
        super().__init__()
        self.scores = {}

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        super().after_test_iter(runner, batch_idx, data_batch, outputs)
        for output in outputs:
            self.scores[output.metainfo['sample_idx']] = dict(
                rotated=output.get('rotated_pred_score').clone(),
                draws=output.get('worst_case_pred_score'),
                angles=output.metainfo.get('worst_case_angles'))


def test_each_worst_case_draw_is_the_single_pass_at_its_angle(image_folder, tmp_path):
    """worst_of=3 under C4: draw j of every sample equals what a plain rotated pass at that
    sample's j-th angle gives (four single-angle runs), and draw 0 is the rotated metric's.
    Unscaled init: the scores are not one-hot, so draws that alias one another show."""
    model = build_classifier(tiny_resnet_cfg(NUM_CLASSES), seed=1, scale=None)

    def run(angles, worst_of=None, name='run'):
        runner = make_runner(model, str(tmp_path / name), classification_dataloader(
            image_folder, batch_size=2), METRIC, angles, 'mmpretrain', worst_of=worst_of)
        recorder = _DrawRecorder()
        runner.register_hook(recorder)
        metrics = runner.test()
        return recorder.scores, metrics
    worst, metrics = run(dict(kind='cyclic', order=4, seed=5), worst_of=3, name='worst')
    single = {angle: run(dict(kind='list', values=[angle]), name=f'at{int(angle)}')[0]
              for angle in (0.0, 90.0, 180.0, 270.0)}
    assert 'wAcc' in metrics and len(worst) == 9
    assert len({angle for record in worst.values() for angle in record['angles']}) >= 3
    for index, record in worst.items():
        torch.testing.assert_close(record['draws'][0], record['rotated'])
        for draw, angle in zip(record['draws'], record['angles']):
            torch.testing.assert_close(draw, single[angle][index]['rotated'])
