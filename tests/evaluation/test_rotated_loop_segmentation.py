"""RotatedTestLoop/RotatedValLoop + RotatedIoUMetric with the real Runner and mmseg models."""
import numpy as np
import pytest
import torch
from fixtures.rotated_eval import (MEAN, NUM_VOC_CLASSES, STD, LogitFreeSegmentor, OutputRecorder,
                                   PointwiseBackbone, ShiftedBackbone, build_segmentor, make_runner,
                                   read_voc_labels, restrict_predictions_, segmentation_dataloader,
                                   segmentor_cfg, tiny_segformer_cfg, write_voc)
from mmseg.evaluation.metrics import IoUMetric
from torch.utils.data import DataLoader

from mmsofteq.engine.runner import IndexedDataset, with_dataset_index
from mmsofteq.nn.evaluation_angles import AngleSampler

pytestmark = pytest.mark.slow  # real Runner / subprocess runs

METRIC = 'mmsofteq.RotatedIoUMetric'
C4_SEED = 3  # a seed whose C4 draws for indices 0..3 include non-trivial rotations


@pytest.fixture(scope='module')
def square_voc(tmp_path_factory):
    return write_voc(str(tmp_path_factory.mktemp('square_voc')), [(12, 12), (16, 16), (12, 12),
                                                                  (16, 16)], seed=0)


@pytest.fixture(scope='module')
def varied_voc(tmp_path_factory):
    """Non-square images of different sizes, large enough for SegFormer's strides."""
    return write_voc(str(tmp_path_factory.mktemp('varied_voc')), [(32, 48), (40, 40), (48, 36)],
                     seed=1)


@pytest.mark.parametrize('inference', [
    dict(mode='whole'),
    dict(mode='slide', crop_size=(32, 32), stride=(32, 32)),
])
def test_pointwise_segmentor_is_exactly_c4_equivariant_through_resize_and_padding(
        square_voc, tmp_path, inference):
    """A 1x1-conv segmentor commutes with quarter turns, so under C4 angles eErr = 0 and
    aIoU = mIoU, even with a resized input padded to 32x32 (whole or slide inference): only
    the image content (not the padding) may be rotated, and logits are compared at label
    size."""
    sampler = AngleSampler(kind='cyclic', order=4, seed=C4_SEED)
    expected_angles = [sampler.angle_for(i) for i in range(4)]
    assert len(set(expected_angles) - {0.0}) >= 2
    model = restrict_predictions_(build_segmentor(
        segmentor_cfg(dict(type=PointwiseBackbone, out_channels=8),
                      preprocessor_test_cfg=dict(size_divisor=32),
                      test_cfg=inference),
        seed=1))
    runner = make_runner(model, str(tmp_path), segmentation_dataloader(square_voc, resize=(24, 24)),
                         METRIC, sampler.to_config(), 'mmseg', loop='val')
    recorder = OutputRecorder()
    runner.register_hook(recorder)
    metrics = runner.val()

    assert [m['sample_idx'] for m in recorder.metainfo] == [0, 1, 2, 3]
    assert [m['rotation_angle'] for m in recorder.metainfo] == expected_angles
    assert all(tuple(m['img_padding_size']) == (0, 8, 0, 8) for m in recorder.metainfo)
    assert metrics['eErr'] < 1e-6
    assert metrics['aIoU'] == metrics['mIoU']
    assert metrics['rotated_aAcc'] == metrics['aAcc']
    assert 0 < metrics['mIoU'] < 100


def _normalised(dataset, index):
    """The dataset image as the data preprocessor normalises it (BGR -> RGB), (1, 3, H, W)."""
    image = dataset[index]['inputs'][[2, 1, 0]].float()
    mean = torch.tensor(MEAN)[:, None, None]
    std = torch.tensor(STD)[:, None, None]
    return ((image - mean) / std)[None]


def test_shifted_segmentor_has_the_eErr_and_aIoU_of_a_direct_computation(square_voc, tmp_path):
    """eErr = 100 * mean_images mean_pixels KL(softmax(rot f(x)) || softmax(f(rot x))),
    computed here directly with torch.rot90 and the raw decode-head logits."""
    model = restrict_predictions_(
        build_segmentor(segmentor_cfg(dict(type=ShiftedBackbone, out_channels=8)), seed=2))
    runner = make_runner(model, str(tmp_path), segmentation_dataloader(square_voc), METRIC,
                         dict(kind='list', values=[90]), 'mmseg')
    metrics = runner.test()

    dataset = runner.test_dataloader.dataset
    labels = read_voc_labels(square_voc)
    kl_per_image, reverse_per_image, histograms = [], [], []
    with torch.no_grad():
        for index in range(len(dataset)):
            image = _normalised(dataset, index)
            clean = model(image, mode='tensor')[0].double()
            rotated = model(torch.rot90(image, 1, dims=(-2, -1)), mode='tensor')[0].double()
            p = torch.softmax(torch.rot90(clean, 1, dims=(-2, -1)), 0)
            q = torch.softmax(rotated, 0)
            kl_per_image.append(float((p * (p.log() - q.log())).sum(0).mean()))
            reverse_per_image.append(float((q * (q.log() - p.log())).sum(0).mean()))
            rotated_label = torch.rot90(torch.from_numpy(labels[index]).long(), 1, dims=(0, 1))
            histograms.append(IoUMetric.intersect_and_union(rotated.argmax(0), rotated_label,
                                                            NUM_VOC_CLASSES, 255))
    expected_eerr = 100 * np.mean(kl_per_image)
    assert expected_eerr > 0.5  # a clearly non-equivariant model
    assert metrics['eErr'] == pytest.approx(expected_eerr, rel=1e-5)
    assert abs(metrics['eErr'] - 100 * np.mean(reverse_per_image)) > 1e-3 * expected_eerr
    totals = [sum(h[k] for h in histograms) for k in range(4)]
    expected_aiou = 100 * np.nanmean(IoUMetric.total_area_to_metrics(*totals)['IoU'])
    assert metrics['aIoU'] == pytest.approx(expected_aiou, rel=1e-6)  # mmseg sums in float32
    assert metrics['aIoU'] > 0



@pytest.mark.parametrize('angle', [23.0, -17.0])
def test_generic_angle_metrics_match_a_computation_with_torchvision(square_voc, tmp_path, angle):
    """The protocol of docs/evaluation.md at a non-quarter angle, computed with torchvision's
    rotate (centre pivot, counter-clockwise, no expand): images and clean logits bilinear with
    zero fill, labels nearest with fill 255, valid pixels = ones rotated nearest (fill 0) >
    0.5. float32 bilinear sampling of the two implementations differs by ~1e-6, hence the
    relative tolerances."""
    import torchvision.transforms.functional as TF
    import torchvision.transforms.v2.functional as F2
    bilinear, nearest = TF.InterpolationMode.BILINEAR, TF.InterpolationMode.NEAREST
    model = restrict_predictions_(
        build_segmentor(segmentor_cfg(dict(type=ShiftedBackbone, out_channels=8)), seed=2))
    runner = make_runner(model, str(tmp_path), segmentation_dataloader(square_voc), METRIC,
                         dict(kind='list', values=[angle]), 'mmseg')
    metrics = runner.test()

    dataset = runner.test_dataloader.dataset
    labels = read_voc_labels(square_voc)
    kl_per_image, histograms = [], []
    with torch.no_grad():
        for index in range(len(dataset)):
            image = _normalised(dataset, index)
            clean = model(image, mode='tensor')[0]
            rotated = model(TF.rotate(image, angle, interpolation=bilinear), mode='tensor')[0]
            p = torch.softmax(TF.rotate(clean, angle, interpolation=bilinear).double(), 0)
            q = torch.softmax(rotated.double(), 0)
            valid = TF.rotate(torch.ones(1, *clean.shape[-2:]), angle, interpolation=nearest,
                              fill=0)[0] > 0.5
            assert 0 < int(valid.sum()) < valid.numel()
            kl_per_image.append(float((p * (p.log() - q.log())).sum(0)[valid].mean()))
            label = torch.from_numpy(labels[index]).long()[None]
            rotated_label = F2.rotate(label, angle, interpolation=nearest, fill=255)[0]
            assert (rotated_label[~valid] == 255).all()
            histograms.append(IoUMetric.intersect_and_union(rotated.argmax(0), rotated_label,
                                                            NUM_VOC_CLASSES, 255))
    assert metrics['eErr'] == pytest.approx(100 * np.mean(kl_per_image), rel=1e-4)
    totals = [sum(h[k] for h in histograms) for k in range(4)]
    expected_aiou = 100 * np.nanmean(IoUMetric.total_area_to_metrics(*totals)['IoU'])
    assert metrics['aIoU'] == pytest.approx(expected_aiou, rel=1e-6)
    assert metrics['aIoU'] != pytest.approx(metrics['mIoU'], rel=1e-3)  # the angle mattered

def test_constant_segmentor_gives_known_ious_and_out_of_view_pixels_never_count(tmp_path):
    """A model predicting class 1 everywhere: IoU_1 = #(label 1) / #(labelled pixels), other
    labelled classes 0. Rotated by 90 degrees, only the centre square of a non-square image
    stays in view; pixels outside must count neither in aIoU nor in eErr."""
    rng = np.random.default_rng(5)
    labels = [rng.choice([0, 1, 2, 255], size=shape, p=[0.4, 0.3, 0.2, 0.1]).astype(np.uint8)
              for shape in ((8, 16), (10, 6))]
    labels[0][:, 4:12] = np.where(labels[0][:, 4:12] == 2, 0, labels[0][:, 4:12])
    labels[0][:, :4] = 2  # class 2 appears only out of view after rotation
    labels[1][:2] = 2
    labels[1][8:] = 2
    labels[1][2:8] = np.where(labels[1][2:8] == 2, 0, labels[1][2:8])
    root = write_voc(str(tmp_path / 'voc'), [label.shape for label in labels], labels=labels)
    model = build_segmentor(segmentor_cfg(dict(type=PointwiseBackbone, out_channels=8)), seed=0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
        model.decode_head.conv_seg.bias[1] = 4.0
    runner = make_runner(model, str(tmp_path / 'work'), segmentation_dataloader(root), METRIC,
                         dict(kind='list', values=[90]), 'mmseg')
    metrics = runner.test()

    def constant_class_miou(label_maps):
        pixels = np.concatenate([m[m != 255] for m in label_maps])
        present = set(np.unique(pixels).tolist()) | {1}
        return 100 * np.mean([np.mean(pixels == 1) if c == 1 else 0.0 for c in present])

    in_view = [labels[0][:, 4:12], labels[1][2:8, :]]
    assert metrics['mIoU'] == pytest.approx(constant_class_miou(labels), rel=1e-12)
    assert metrics['aIoU'] == pytest.approx(constant_class_miou(in_view), rel=1e-12)
    assert metrics['aIoU'] > metrics['mIoU']  # class 2 (IoU 0) left the view
    assert metrics['eErr'] < 1e-6  # the zero-filled out-of-view logits are not compared


@pytest.mark.parametrize('loader_options, error, message', [
    (dict(flip=True), NotImplementedError, 'flip'),
    (dict(resize=(24, 24), labels_before_resize=True), ValueError, 'gt_sem_seg'),
])
def test_unsupported_pipelines_are_rejected(square_voc, tmp_path, loader_options, error,
                                            message):
    model = build_segmentor(segmentor_cfg(dict(type=PointwiseBackbone, out_channels=8)), seed=0)
    runner = make_runner(model, str(tmp_path), segmentation_dataloader(square_voc,
                                                                       **loader_options),
                         METRIC, None, 'mmseg')
    with pytest.raises(error, match=message):
        runner.test()


def test_angles_are_reproducible_and_seeded(varied_voc, tmp_path):
    model = build_segmentor(tiny_segformer_cfg(), seed=0, scale=None)

    def run(angles):
        return make_runner(model, str(tmp_path), segmentation_dataloader(varied_voc), METRIC,
                           angles, 'mmseg').test()

    first, again = run(None), run(dict(kind='uniform', low=-30, high=30, seed=0))
    assert first == again
    other_seed = run(dict(kind='uniform', low=-30, high=30, seed=1))
    assert other_seed['eErr'] != first['eErr']
    assert other_seed['mIoU'] == first['mIoU']  # clean numbers do not depend on angles
    assert first['eErr'] > 0


def test_model_output_without_logits_is_rejected(square_voc, tmp_path):
    cfg = segmentor_cfg(dict(type=PointwiseBackbone, out_channels=8))
    cfg['type'] = LogitFreeSegmentor
    model = build_segmentor(cfg, seed=0)
    runner = make_runner(model, str(tmp_path), segmentation_dataloader(square_voc), METRIC,
                         None, 'mmseg')
    with pytest.raises(ValueError, match="no 'seg_logits'"):
        runner.test()


def test_indexed_dataset_tags_indices_and_forwards_dataset_attributes(square_voc):
    config = with_dataset_index(segmentation_dataloader(square_voc))
    assert config['dataset']['type'] is IndexedDataset
    assert with_dataset_index(config)['dataset'] is config['dataset']  # no double wrap
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmseg'):
        dataset = IndexedDataset(config['dataset']['dataset'])
    assert len(dataset) == 4
    assert dataset[2]['data_samples'].metainfo['sample_idx'] == 2
    assert dataset.metainfo['classes'][0] == 'background'
    assert dataset.data_root == square_voc  # forwarded attribute
    loader = DataLoader(dataset, batch_size=1)
    assert with_dataset_index(loader) is loader


def test_prebuilt_dataloader_without_indices_is_rejected(square_voc, tmp_path):
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import DATASETS, DefaultScope
    with DefaultScope.overwrite_default_scope('mmseg'):
        dataset = DATASETS.build(segmentation_dataloader(square_voc)['dataset'])
    loader = DataLoader(dataset, batch_size=1, collate_fn=pseudo_collate)
    model = build_segmentor(segmentor_cfg(dict(type=PointwiseBackbone, out_channels=8)), seed=0)
    runner = make_runner(model, str(tmp_path), loader, METRIC, None, 'mmseg')
    with pytest.raises(ValueError, match='sample_idx'):
        runner.test()



def test_writer_rejects_unknown_task_and_bad_angles():
    from mmsofteq.engine.runner import RotatedPredictionWriter
    with pytest.raises(ValueError, match='task'):
        RotatedPredictionWriter(task='detection')
    with pytest.raises(ValueError, match='min > max'):
        RotatedPredictionWriter(angles=dict(kind='uniform', low=5, high=-5))
