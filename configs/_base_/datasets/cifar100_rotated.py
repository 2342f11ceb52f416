# CIFAR-100 at its native 32 x 32 (mmpretrain's cifar100_bs16.py; the dataset class downloads
# the python version into data/cifar100 when it is missing) with mmsofteq's rotated evaluation:
# every test image once as is and once rotated by its seeded angle θ ~ U(-30°, 30°)
# (bilinear, centre pivot, fill 0 after normalisation) -> Acc / aAcc / cAcc / iErr (x100).
_base_ = ['mmpretrain::_base_/datasets/cifar100_bs16.py']

custom_imports = dict(imports=['mmsofteq'], allow_failed_imports=False)

# Total batch 128 = 8 GPUs x 16 images.
train_dataloader = dict(batch_size=16)
val_dataloader = dict(batch_size=16)
test_dataloader = val_dataloader

rotation_angles = dict(kind='uniform', low=-30.0, high=30.0, seed=0)
val_cfg = dict(type='mmsofteq.RotatedValLoop', angles=rotation_angles)
test_cfg = dict(type='mmsofteq.RotatedTestLoop', angles=rotation_angles)
val_evaluator = dict(_delete_=True, type='mmsofteq.RotatedAccuracy')
test_evaluator = val_evaluator
auto_scale_lr = dict(base_batch_size=128)
