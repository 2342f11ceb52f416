# The paper's VOC schedule, as voc_adamw_100e.py (AdamW, head lr 1e-3, clip
# 1.0, 250 warm-up iterations then cosine) with these differences: 100 epochs of the
# 1,317-image training part at total batch 32 with drop_last = 41 iterations per epoch, 4,100
# in all; weight decay on every parameter (biases and norms too); warm-up from 0 (1e-6 x lr:
# mmengine's LinearLR cannot start at 0); cosine to 1e-7 (DINOv2: 1e-6); validation on the
# held-out 10 % after every epoch, keeping the best clean-val mIoU checkpoint
# (best_mIoU_iter_*.pth) for the test (tools/train.py --test-best).
# Backbone lr / weight decay here are SegFormer's (1e-4 / 0.01, head x10 = 1e-3); ViT
# (5e-5 / 0.07, head x20) and DINOv2 (1e-5 / 0.01, head x100) override them.
_base_ = ['./voc_adamw_100e.py']

iters_per_epoch = 41  # 1317 // 32
max_iters = 100 * iters_per_epoch
warmup_iters = 250

optim_wrapper = dict(
    paramwise_cfg=dict(_delete_=True, custom_keys={'decode_head': dict(lr_mult=10.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', eta_min=1e-7, by_epoch=False, begin=warmup_iters,
         end=max_iters, T_max=max_iters - warmup_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=iters_per_epoch)
# the best clean-val mIoU (save_best), plus the latest every 10 epochs for --resume
default_hooks = dict(
    checkpoint=dict(interval=10 * iters_per_epoch, max_keep_ckpts=1, save_best='mIoU',
                    rule='greater'))
