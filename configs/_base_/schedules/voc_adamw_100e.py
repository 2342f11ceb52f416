# The paper's VOC fine-tuning schedule: AdamW, 100 epochs of VOC train (1,464
# images) at total batch 32 = 4,600 iterations (46 per epoch), 250 iterations of linear
# warm-up then cosine decay to 0, gradient clipping at norm 1.0.
# Backbone lr / weight decay here are SegFormer's (1e-4 / 0.01); the head is 10x (1e-3).
# ViT (5e-5 / 0.07, head x20) and DINOv2 (1e-5 / 0.01, head x100) override them.
iters_per_epoch = 46  # ceil(1464 / 32)
max_iters = 100 * iters_per_epoch
warmup_iters = 250

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.01),
    clip_grad=dict(max_norm=1.0, norm_type=2),
    # no weight decay on biases and normalisation layers (as the reference's HF Trainer)
    paramwise_cfg=dict(bias_decay_mult=0.0, norm_decay_mult=0.0,
                       custom_keys={'decode_head': dict(lr_mult=10.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=False, begin=warmup_iters,
         end=max_iters, T_max=max_iters - warmup_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=10 * iters_per_epoch)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=10 * iters_per_epoch,
                    max_keep_ckpts=2, save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'),
    # mmsofteq: stop on NaN / Inf weights or loss (off: default_hooks.finite_check=None)
    finite_check=dict(type='mmsofteq.FiniteCheckHook'),
    # mmsofteq: one training per work dir, no write or delete outside it (docs/security.md)
    run_guard=dict(type='mmsofteq.RunGuardHook'),
    # mmsofteq: a bad label or image value stops the run naming its file
    data_check=dict(type='mmsofteq.DataCheckHook'))
# `tools/train.py --cfg-options auto_scale_lr.enable=True` rescales the lrs for another
# total batch size.
auto_scale_lr = dict(enable=False, base_batch_size=32)
randomness = dict(seed=0)
