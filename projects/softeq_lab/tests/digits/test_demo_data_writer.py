"""Folder layouts, manifest, determinism, idempotence and the safety rules of the demo sets."""
import json
import os
from dataclasses import replace

from softeq_lab.digits import render as demo_digits
from softeq_lab.digits.scans import load_digit_scans
from softeq_lab.digits import writer as demo_writer
import numpy as np
import pytest
from softeq_lab.digits.render import DEMO_CLS_FOLDERS, DEMO_PALETTE, split_scans
from softeq_lab.digits.writer import (MANIFEST_NAME, ClassificationSpec, SegmentationSpec,
                                      UnsafeTargetError, build_demo_set, read_manifest, verify_set,
                                      write_classification_set, write_segmentation_set)
from PIL import Image

TINY_SEG = SegmentationSpec(seed=1, num_train=6, num_val=3)


def _read_label(root, name):
    return Image.open(root / 'SegmentationClass' / f'{name}.png')


def _file_bytes(root):
    return {rel: (root / rel).read_bytes() for rel in demo_writer.iter_files(root)}


def _siblings(path):
    return sorted(p.name for p in path.parent.iterdir())


# --------------------------------------------------------------------------- segmentation layout
def test_voc_layout_and_split_files(seg_set, seg_spec):
    root, manifest = seg_set
    train = (root / 'ImageSets/Segmentation/train.txt').read_text().split()
    val = (root / 'ImageSets/Segmentation/val.txt').read_text().split()
    trainval = (root / 'ImageSets/Segmentation/trainval.txt').read_text().split()
    assert len(train) == seg_spec.num_train and len(val) == seg_spec.num_val
    assert trainval == train + val and not set(train) & set(val)
    for name in train + val:
        image = Image.open(root / 'JPEGImages' / f'{name}.jpg')
        assert image.format == 'JPEG' and image.mode == 'RGB' and image.size == (64, 64)
        assert (root / 'SegmentationClass' / f'{name}.png').is_file()
    assert manifest['counts'] == {'train': 24, 'val': 8} and manifest['complete'] is True
    assert read_manifest(root) == json.loads(json.dumps(manifest))


def test_labels_are_voc_palette_pngs_with_demo_values(seg_set):
    root, manifest = seg_set
    _, digits = load_digit_scans()
    seen = set()
    for split in ('train', 'val'):
        for name, scan_ids in manifest['images'][split].items():
            label = _read_label(root, name)
            assert label.format == 'PNG' and label.mode == 'P'
            palette = np.array(label.getpalette()[:3 * 256]).reshape(-1, 3)
            assert palette[:11].tolist() == [list(rgb) for rgb in DEMO_PALETTE]
            assert palette[255].tolist() == [224, 224, 192]
            values = set(np.unique(np.asarray(label)).tolist())
            assert values <= set(range(11)) | {255}
            assert values - {0, 255} == {int(digits[i]) + 1 for i in scan_ids}
            seen |= values
    assert 0 in seen and 255 in seen and len(seen - {0, 255}) >= 8


def test_train_and_val_use_disjoint_scans(seg_set, cls_set, seg_spec, cls_spec):
    for (root, manifest), spec in ((seg_set, seg_spec), (cls_set, cls_spec)):
        pool_train, pool_val = split_scans(load_digit_scans()[1], spec.seed)
        used = {}
        for split in ('train', 'val'):
            ids = manifest['images'][split].values()
            used[split] = set(np.concatenate([np.atleast_1d(i) for i in ids]).tolist())
        assert used['train'] and used['val']
        assert not used['train'] & used['val']
        assert used['train'] <= set(pool_train.tolist())
        assert used['val'] <= set(pool_val.tolist())


def test_manifest_records_provenance_and_hashes(seg_set, seg_spec):
    root, manifest = seg_set
    assert manifest['generator_version'] == demo_writer.GENERATOR_VERSION
    assert manifest['params'] == json.loads(json.dumps(seg_spec.__dict__))
    assert manifest['source']['loader'] == 'sklearn.datasets.load_digits'
    assert manifest['source']['num_scans'] == 1797
    assert manifest['classes'][0] == 'background' and manifest['ignore_index'] == 255
    assert sorted(manifest['files']) == sorted(set(demo_writer.iter_files(root)) -
                                               {MANIFEST_NAME})
    assert verify_set(root) == (True, 'intact')


# --------------------------------------------------------------------------- classification
def test_classification_layout_and_ann_files(cls_set):
    root, manifest = cls_set
    assert sorted(os.listdir(root / 'train')) == list(DEMO_CLS_FOLDERS)
    assert list(DEMO_CLS_FOLDERS) == sorted(DEMO_CLS_FOLDERS)  # alphabetical == digit order
    _, digits = load_digit_scans()
    for split, count in (('train', 60), ('val', 20)):
        lines = (root / 'meta' / f'{split}.txt').read_text().splitlines()
        assert len(lines) == count == manifest['counts'][split]
        for line in lines:
            rel, label = line.rsplit(' ', 1)
            assert rel.split('/')[0] == DEMO_CLS_FOLDERS[int(label)]
            assert int(digits[manifest['images'][split][rel]]) == int(label)
            image = Image.open(root / split / rel)
            assert image.format == 'PNG' and image.mode == 'RGB' and image.size == (32, 32)


def test_classification_defaults_use_every_scan_of_each_split_once(tmp_path):
    manifest = write_classification_set(tmp_path / 'cls', ClassificationSpec(seed=0, size=16))
    train, val = split_scans(load_digit_scans()[1], 0)
    assert sorted(manifest['images']['train'].values()) == train.tolist()
    assert sorted(manifest['images']['val'].values()) == val.tolist()


# --------------------------------------------------------------------------- determinism
def test_same_spec_gives_identical_bytes(tmp_path, seg_set, seg_spec):
    root, manifest = seg_set
    again = write_segmentation_set(tmp_path / 'again', seg_spec)
    assert _file_bytes(tmp_path / 'again') == _file_bytes(root)
    assert again['content_sha256'] == manifest['content_sha256']
    assert again['label_sha256'] == manifest['label_sha256']
    other = write_segmentation_set(tmp_path / 'other', replace(seg_spec, seed=4))
    assert other['label_sha256'] != manifest['label_sha256']


def test_changing_val_count_keeps_train_images(tmp_path):
    write_segmentation_set(tmp_path / 'a', TINY_SEG)
    write_segmentation_set(tmp_path / 'b', replace(TINY_SEG, num_val=5))
    for index in range(TINY_SEG.num_train):
        rel = f'JPEGImages/train_{index:05d}.jpg'
        assert (tmp_path / 'a' / rel).read_bytes() == (tmp_path / 'b' / rel).read_bytes()


# --------------------------------------------------------------------------- idempotence
def test_second_build_does_nothing(tmp_path, monkeypatch):
    root = tmp_path / 'data' / 'demo_voc'
    assert build_demo_set(root, TINY_SEG) == 'generated'
    stamps = {rel: (root / rel).stat().st_mtime_ns for rel in demo_writer.iter_files(root)}

    def must_not_write(*args, **kwargs):
        raise AssertionError('regenerated an up-to-date set')

    monkeypatch.setitem(demo_writer.WRITERS, 'seg', must_not_write)
    assert build_demo_set(root, TINY_SEG) == 'already generated'
    assert stamps == {rel: (root / rel).stat().st_mtime_ns for rel in demo_writer.iter_files(root)}
    assert _siblings(root) == ['demo_voc']


def test_other_parameters_or_damage_regenerate_cleanly(tmp_path):
    root = tmp_path / 'demo_voc'
    build_demo_set(root, TINY_SEG)
    bigger = replace(TINY_SEG, num_train=8)
    assert build_demo_set(root, bigger) == 'regenerated'
    assert read_manifest(root)['counts']['train'] == 8
    assert len(os.listdir(root / 'JPEGImages')) == 8 + TINY_SEG.num_val
    assert _siblings(root) == ['demo_voc']  # no temporaries or backups left

    (root / 'JPEGImages' / 'train_00003.jpg').unlink()
    assert verify_set(root)[0] is False
    assert build_demo_set(root, bigger) == 'regenerated'
    assert verify_set(root) == (True, 'intact')

    (root / 'SegmentationClass' / 'val_00000.png').write_bytes(b'tampered')
    assert demo_writer.inspect_target(root, bigger).kind == 'stale'
    assert build_demo_set(root, bigger) == 'regenerated'
    assert build_demo_set(root, bigger) == 'already generated'


def test_existing_empty_directory_is_used(tmp_path):
    root = tmp_path / 'demo_voc'
    root.mkdir()
    assert build_demo_set(root, TINY_SEG) == 'generated'
    assert verify_set(root)[0]


# --------------------------------------------------------------------------- safety
def test_real_voc_tree_is_refused_even_with_force(tmp_path):
    root = tmp_path / 'VOCdevkit_copy'
    (root / 'VOC2012' / 'JPEGImages').mkdir(parents=True)
    (root / 'VOC2012' / 'JPEGImages' / '2007_000032.jpg').write_bytes(b'real photo')
    before = _file_bytes(root)
    for force in (False, True):
        with pytest.raises(UnsafeTargetError, match='PASCAL VOC'):
            build_demo_set(root, TINY_SEG, force=force)
    assert _file_bytes(root) == before and _siblings(root) == ['VOCdevkit_copy']
    named = tmp_path / 'VOCdevkit'
    named.mkdir()
    (named / 'readme.txt').write_text('x')
    with pytest.raises(UnsafeTargetError, match="named 'VOCdevkit'"):
        build_demo_set(named, TINY_SEG, force=True)


def test_many_foreign_files_are_refused_even_with_force(tmp_path):
    root = tmp_path / 'photos'
    (root / 'JPEGImages').mkdir(parents=True)
    for index in range(demo_writer.FOREIGN_FILE_LIMIT + 1):
        (root / 'JPEGImages' / f'{index}.jpg').write_bytes(b'x')
    with pytest.raises(UnsafeTargetError, match='did not write'):
        build_demo_set(root, TINY_SEG, force=True)
    assert len(os.listdir(root / 'JPEGImages')) == demo_writer.FOREIGN_FILE_LIMIT + 1


def test_foreign_directory_needs_force_and_is_moved_aside(tmp_path):
    root = tmp_path / 'demo_voc'
    root.mkdir()
    (root / 'notes.txt').write_text('mine')
    with pytest.raises(UnsafeTargetError, match='--force'):
        build_demo_set(root, TINY_SEG)
    assert os.listdir(root) == ['notes.txt']
    assert build_demo_set(root, TINY_SEG, force=True) == 'replaced'
    backups = [name for name in _siblings(root) if name.startswith('demo_voc.replaced-')]
    assert len(backups) == 1 and (tmp_path / backups[0] / 'notes.txt').read_text() == 'mine'
    assert verify_set(root)[0]


def test_extra_files_in_our_set_and_other_task_count_as_foreign(tmp_path):
    root = tmp_path / 'demo_voc'
    build_demo_set(root, TINY_SEG)
    (root / 'JPEGImages' / 'holiday.jpg').write_bytes(b'x')
    with pytest.raises(UnsafeTargetError):
        build_demo_set(root, TINY_SEG)
    (root / 'JPEGImages' / 'holiday.jpg').unlink()
    with pytest.raises(UnsafeTargetError, match="'seg' demo set"):
        build_demo_set(root, ClassificationSpec(num_train=5, num_val=5))


def test_dangerous_paths_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for path in (tmp_path, tmp_path.parent, '.'):
        with pytest.raises(UnsafeTargetError):
            build_demo_set(path, TINY_SEG, force=True)
    with pytest.raises(UnsafeTargetError):
        build_demo_set('/', TINY_SEG, force=True)


def test_crash_leaves_nothing_half_made(tmp_path, monkeypatch):
    root = tmp_path / 'demo_voc'
    real_compose = demo_digits.compose_segmentation_sample
    calls = []

    def crash_after_three(*args, **kwargs):
        calls.append(1)
        if len(calls) > 3:
            raise KeyboardInterrupt
        return real_compose(*args, **kwargs)

    monkeypatch.setattr(demo_digits, 'compose_segmentation_sample', crash_after_three)
    with pytest.raises(KeyboardInterrupt):
        build_demo_set(root, TINY_SEG)
    assert _siblings(root) == []
    monkeypatch.setattr(demo_digits, 'compose_segmentation_sample', real_compose)
    build_demo_set(root, TINY_SEG)
    before = _file_bytes(root)
    calls.clear()
    monkeypatch.setattr(demo_digits, 'compose_segmentation_sample', crash_after_three)
    with pytest.raises(KeyboardInterrupt):
        build_demo_set(root, replace(TINY_SEG, seed=2))
    assert _file_bytes(root) == before and _siblings(root) == ['demo_voc']


def test_stale_temporaries_of_dead_runs_are_removed(tmp_path):
    root = tmp_path / 'demo_voc'
    dead = tmp_path / '.demo_voc.tmp-999999999'
    (dead / 'JPEGImages').mkdir(parents=True)
    assert not demo_writer._pid_alive(999999999)
    build_demo_set(root, TINY_SEG)
    assert not dead.exists() and _siblings(root) == ['demo_voc']


def test_a_set_written_by_the_earlier_converter_path_is_still_ours(tmp_path):
    """Sets made before the converter moved into softeq_lab name the old tool in their
    manifest: they are reused as they are, never refused as foreign data."""
    root = tmp_path / 'data' / 'demo_voc'
    assert build_demo_set(root, TINY_SEG) == 'generated'
    manifest_path = root / demo_writer.MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text())
    manifest['generator'] = 'mmsofteq tools/dataset_converters/demo_digits.py'
    manifest_path.write_text(json.dumps(manifest))
    assert read_manifest(root)['generator'] == manifest['generator']
    assert build_demo_set(root, TINY_SEG) == 'already generated'
    manifest['generator'] = 'someone else'
    manifest_path.write_text(json.dumps(manifest))
    assert read_manifest(root) is None
