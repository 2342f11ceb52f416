"""Two gloo CPU processes give exactly the numbers of one process (real Runner.test()),
the worst-case metrics (``worst_of=3``) included."""
import pickle
import socket

import pytest
import torch.multiprocessing as mp
from fixtures.rotated_eval import evaluate_both_tasks, write_image_folder, write_voc

pytestmark = pytest.mark.slow  # real Runner / subprocess runs


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_two_processes_give_exactly_the_single_process_numbers(tmp_path):
    # 5 non-square images of different sizes / 9 classification images: odd counts, so the
    # sampler pads rank 1 with a duplicate that must be dropped.
    seg_root = write_voc(str(tmp_path / 'voc'),
                         [(32, 48), (40, 40), (48, 36), (36, 44), (32, 32)], seed=4)
    cls_root = write_image_folder(str(tmp_path / 'images'), 3, 3, sizes=[(32, 32), (28, 36)])

    single_file = str(tmp_path / 'single.pkl')
    evaluate_both_tasks(0, 1, 0, seg_root, cls_root, str(tmp_path / 'work1'), single_file)
    double_file = str(tmp_path / 'double.pkl')
    mp.spawn(evaluate_both_tasks, nprocs=2, join=True,
             args=(2, _free_port(), seg_root, cls_root, str(tmp_path / 'work2'), double_file))

    with open(single_file, 'rb') as file:
        single = pickle.load(file)
    with open(double_file, 'rb') as file:
        double = pickle.load(file)
    assert set(single['segmentation']) >= {'mIoU', 'aIoU', 'cIoU', 'eErr', 'wIoU', 'w_aAcc'}
    assert set(single['classification']) == {'accuracy/top1', 'rotated_accuracy/top1', 'cAcc',
                                             'iErr', 'wAcc'}
    # right at all 3 angles (the first is the rotated metric's) implies right at the first
    assert single['classification']['wAcc'] <= single['classification']['rotated_accuracy/top1']
    assert single['segmentation']['eErr'] > 0 and single['classification']['iErr'] > 0
    assert (single['world_size'], double['world_size']) == (1, 2)
    assert (single['batches_on_rank0'], double['batches_on_rank0']) == (5, 3)  # work was split
    for task in ('segmentation', 'classification'):
        assert double[task] == single[task]  # exact equality, every key
