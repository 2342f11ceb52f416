# Fine-tuning schedule for the classification configs (ours: the paper states no
# classification recipe): AdamW, 10 epochs, 1 epoch of linear warm-up then cosine decay to 0,
# gradient clipping at norm 1.0, no weight decay on biases and normalisation layers.
# Backbone lr 5e-5, a freshly initialised head 20x (1e-3); configs override per backbone.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-5, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=1.0, norm_type=2),
    paramwise_cfg=dict(bias_decay_mult=0.0, norm_decay_mult=0.0,
                       custom_keys={'head': dict(lr_mult=20.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=1, end=10, T_max=9,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=1)
