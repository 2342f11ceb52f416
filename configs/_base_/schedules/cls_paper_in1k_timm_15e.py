# The paper's ImageNet fine-tuning schedule (timm recipe, REFERENCE §4, paper Tab. 14):
# 15 epochs at total batch 128; AdamW lr 1e-5, weight decay 0.05 (DINOv2: 0.04), layer-wise
# lr decay 0.65 (mmpretrain's LearningRateDecayOptimWrapperConstructor, which reads each
# backbone's get_layer_depth: ViT, DINOv2 and ResNet all have one); 4 warm-up epochs from
# 1e-6, then cosine to 1e-6 (both relative to each layer's decayed lr, as timm); no weight
# decay on biases, norms and other 1-D parameters (layer scales), the cls token and the
# position grid; gradient clipping at norm 1.0; bf16 autocast; EMA of the weights and
# buffers (timm's default decay 0.9998: mmengine momentum 2e-4), evaluated in place of the
# raw weights. The paper accumulated 4 steps of 32 for 128 on one GPU: on N GPUs keep
# N x batch_size x optim_wrapper.accumulative_counts = 128, and set the EMA hook's interval
# to accumulative_counts (one EMA update per optimizer step, as timm:
# --cfg-options optim_wrapper.accumulative_counts=8 custom_hooks.0.interval=8).
optim_wrapper = dict(
    type='AmpOptimWrapper',
    dtype='bfloat16',
    optimizer=dict(type='AdamW', lr=1e-5, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=1.0, norm_type=2),
    constructor='LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.65, bias_decay_mult=0.0, norm_decay_mult=0.0,
                       flat_decay_mult=0.0,
                       custom_keys={'.cls_token': dict(decay_mult=0.0),
                                    '.pos_embed': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=4,
         convert_to_iter_based=True),
    # 1e-6 / 1e-5: every layer's lr ends at a tenth of its (layer-decayed) start
    dict(type='CosineAnnealingLR', eta_min_ratio=0.1, by_epoch=True, begin=4, end=15,
         T_max=11, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=15, val_interval=1)
custom_hooks = [dict(type='EMAHook', momentum=2e-4, update_buffers=True, interval=1,
                     priority='ABOVE_NORMAL')]
auto_scale_lr = dict(enable=False, base_batch_size=128)
