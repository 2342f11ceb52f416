# ImageNet-1k with the timm fine-tuning augmentation the paper used (paper
# Tab. 14), through mmpretrain's own transforms (its imagenet_bs64_swin_224.py): bicubic
# RandomResizedCrop 224 and flip, RandAugment rand-m9-mstd0.5-inc1 (policies
# 'timm_increasing', 2 ops, magnitude 9 of 10, std 0.5), RandomErasing p=0.25 (mode 'rand');
# test: resize short side 256, centre crop 224. Mixup 0.8 / CutMix 1.0 and label smoothing
# 0.1 are model keys (the paper configs set them). 128 images per step = 8 GPUs x 16 images
# (512 per update with the schedule's accumulative_counts=4).
_base_ = ['mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py']

train_dataloader = dict(batch_size=16)
val_dataloader = dict(batch_size=16)
test_dataloader = val_dataloader
