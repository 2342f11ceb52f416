# mmsofteq's rotated evaluation (docs/evaluation.md), for segmentation and classification:
# every val/test sample once as is and once rotated by its own seeded angle
# θ ~ U(-30°, 30°) (identical on any number of GPUs). The dataset base's evaluator is kept
# (mmseg's IoUMetric: aAcc / mIoU / mAcc; mmpretrain's Accuracy: accuracy/top1) and the loop
# adds the rotated metric next to it: aIoU / cIoU / eErr or rotated_accuracy/top1 / cAcc /
# iErr (all x100).
custom_imports = dict(imports=['mmsofteq'], allow_failed_imports=False)

rotation_angles = dict(kind='uniform', low=-30.0, high=30.0, seed=0)
val_cfg = dict(type='mmsofteq.RotatedValLoop', angles=rotation_angles)
test_cfg = dict(type='mmsofteq.RotatedTestLoop', angles=rotation_angles)
