# The paper's ImageNet fine-tuning schedule (timm recipe, REFERENCE §4, paper Tab. 14):
# 15 epochs at total batch 128; AdamW lr 1e-5, weight decay 0.05 (DINOv2: 0.04), layer-wise
# lr decay 0.65 (mmpretrain's LearningRateDecayOptimWrapperConstructor, which reads each
# backbone's get_layer_depth: ViT, DINOv2 and ResNet all have one); 4 warm-up epochs from
# 1e-6, then cosine to 1e-6; gradient clipping at norm 1.0; bf16 autocast; EMA of the
# weights (timm's default decay 0.9998: mmengine momentum 2e-4), evaluated in place of the
# raw weights. The paper accumulated 4 steps of 32 for 128 on one GPU: on N GPUs keep
# N x batch_size x optim_wrapper.accumulative_counts = 128.
optim_wrapper = dict(
    type='AmpOptimWrapper',
    dtype='bfloat16',
    optimizer=dict(type='AdamW', lr=1e-5, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=1.0, norm_type=2),
    constructor='LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.65, bias_decay_mult=0.0, norm_decay_mult=0.0,
                       custom_keys={'.cls_token': dict(decay_mult=0.0),
                                    '.pos_embed': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=4,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=4, end=15, T_max=11,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=15, val_interval=1)
custom_hooks = [dict(type='EMAHook', momentum=2e-4, priority='ABOVE_NORMAL')]
auto_scale_lr = dict(enable=False, base_batch_size=128)
