"""Names of the fields the rotated evaluation loops add to each output data sample.

This is the contract between ``mmsofteq.RotatedValLoop``/``RotatedTestLoop`` (which run
the rotated forward pass) and ``mmsofteq.RotatedIoUMetric``/``RotatedAccuracy`` (which
reduce it to numbers). ``x`` is the image, ``rot`` the evaluation rotation of the sample,
``f`` the model; maps are at label resolution ``(H, W)`` (mmseg's ``ori_shape``).

Metainfo (every task):
    ``sample_idx``        index of the sample in the evaluated dataset (keys the angle).
    ``rotation_angle``    the sample's angle in degrees (counter-clockwise).

Segmentation (``SegDataSample``, all ``PixelData``):
    ``rotated_seg_logits``        ``f(rot x)``, ``(C, H, W)`` logits of the rotated image.
    ``rotated_pred_sem_seg``      ``argmax f(rot x)``, ``(1, H, W)``.
    ``rotated_gt_sem_seg``        ``rot(gt)``, nearest, rotated-in pixels = ignore index.
    ``rotated_clean_seg_logits``  ``rot(f(x))``, ``(C, H, W)``, bilinear, fill 0.
    ``rotation_valid_mask``       ``(1, H, W)`` bool, ``rot(ones) > 0.5`` (nearest, fill 0).

Classification (mmpretrain ``DataSample``):
    ``rotated_pred_score``        ``softmax f(rot x)``, ``(C,)``.
    ``rotated_pred_label``        ``argmax f(rot x)``, ``(1,)``.

Worst case (the loops' ``worst_of=k``; draw 0 is the rotation above):
    ``worst_case_angles``         metainfo: the ``k`` angles.
    ``worst_case_pred_sem_seg``   ``(k, H, W)``: ``argmax f(rot_j x)``.
    ``worst_case_gt_sem_seg``     ``(k, H, W)``: ``rot_j(gt)`` as ``rotated_gt_sem_seg``.
    ``worst_case_pred_score``     ``(k, C)``: ``softmax f(rot_j x)``.
"""

DATASET_INDEX = 'sample_idx'
ROTATION_ANGLE = 'rotation_angle'

ROTATED_SEG_LOGITS = 'rotated_seg_logits'
ROTATED_PRED_SEM_SEG = 'rotated_pred_sem_seg'
ROTATED_GT_SEM_SEG = 'rotated_gt_sem_seg'
ROTATED_CLEAN_SEG_LOGITS = 'rotated_clean_seg_logits'
ROTATION_VALID_MASK = 'rotation_valid_mask'

ROTATED_PRED_SCORE = 'rotated_pred_score'
ROTATED_PRED_LABEL = 'rotated_pred_label'

WORST_CASE_ANGLES = 'worst_case_angles'
WORST_CASE_PRED_SEM_SEG = 'worst_case_pred_sem_seg'
WORST_CASE_GT_SEM_SEG = 'worst_case_gt_sem_seg'
WORST_CASE_PRED_SCORE = 'worst_case_pred_score'
