# The paper's VOC schedule (REFERENCE §4): 100 epochs of the 1,317-image training part at
# total batch 32 with drop_last = 41 iterations per epoch, 4,100 in all; AdamW with weight
# decay on every parameter; linear warm-up from 0 (1e-6 x lr: mmengine's LinearLR cannot
# start at 0) over 250 iterations, then cosine decay to 1e-7 (DINOv2: 1e-6); gradient
# clipping at norm 1.0. Validation on the held-out 10 % after
# every epoch; the best clean-val mIoU checkpoint is kept (best_mIoU_iter_*.pth) for the test.
# Backbone lr / weight decay here are SegFormer's (1e-4 / 0.01, head x10 = 1e-3); ViT
# (5e-5 / 0.07, head x20) and DINOv2 (1e-5 / 0.01, head x100) override them.
iters_per_epoch = 41  # 1317 // 32
max_iters = 100 * iters_per_epoch
warmup_iters = 250

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.01),
    clip_grad=dict(max_norm=1.0, norm_type=2),
    paramwise_cfg=dict(custom_keys={'decode_head': dict(lr_mult=10.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', eta_min=1e-7, by_epoch=False, begin=warmup_iters,
         end=max_iters, T_max=max_iters - warmup_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=iters_per_epoch)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # best clean-val mIoU (save_best), plus the latest every 10 epochs for --resume
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=10 * iters_per_epoch,
                    max_keep_ckpts=1, save_last=True, save_best='mIoU', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'),
    finite_check=dict(type='mmsofteq.FiniteCheckHook'))
auto_scale_lr = dict(enable=False, base_batch_size=32)
randomness = dict(seed=0)
