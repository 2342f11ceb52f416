"""Small demo sets shared by the dataset-converter tests (generated once per session)."""
import pytest
from softeq_lab.digits.writer import (ClassificationSpec, SegmentationSpec,
                                      write_classification_set, write_segmentation_set)

SMALL_SEG = SegmentationSpec(seed=3, num_train=24, num_val=8)
SMALL_CLS = ClassificationSpec(seed=3, num_train=60, num_val=20)


@pytest.fixture(scope='session')
def seg_spec():
    return SMALL_SEG


@pytest.fixture(scope='session')
def cls_spec():
    return SMALL_CLS


@pytest.fixture(scope='session')
def seg_set(tmp_path_factory):
    """(root, manifest) of a small VOC-layout set."""
    root = tmp_path_factory.mktemp('demo_voc')
    return root, write_segmentation_set(root, SMALL_SEG)


@pytest.fixture(scope='session')
def cls_set(tmp_path_factory):
    """(root, manifest) of a small class-folder set."""
    root = tmp_path_factory.mktemp('demo_digits_cls')
    return root, write_classification_set(root, SMALL_CLS)
