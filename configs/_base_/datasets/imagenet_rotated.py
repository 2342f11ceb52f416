# ImageNet-1k (mmpretrain's imagenet_bs64_pil_resize.py: data/imagenet/{train,val}/ with
# meta/{train,val}.txt, 224 px crops, PIL resizing) with mmsofteq's rotated evaluation:
# every val image once as is and once rotated by its seeded angle θ ~ U(-30°, 30°)
# -> Acc / aAcc / cAcc / iErr (x100).
_base_ = ['mmpretrain::_base_/datasets/imagenet_bs64_pil_resize.py']

custom_imports = dict(imports=['mmsofteq'], allow_failed_imports=False)

# Total batch 256 = 8 GPUs x 32 images.
train_dataloader = dict(batch_size=32)
val_dataloader = dict(batch_size=32)
test_dataloader = val_dataloader

rotation_angles = dict(kind='uniform', low=-30.0, high=30.0, seed=0)
val_cfg = dict(type='mmsofteq.RotatedValLoop', angles=rotation_angles)
test_cfg = dict(type='mmsofteq.RotatedTestLoop', angles=rotation_angles)
val_evaluator = dict(_delete_=True, type='mmsofteq.RotatedAccuracy')
test_evaluator = val_evaluator
auto_scale_lr = dict(base_batch_size=256)
