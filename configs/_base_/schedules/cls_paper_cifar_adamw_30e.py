# The paper's CIFAR schedule: 30 epochs at total batch 128, AdamW lr 1e-4
# (DINOv2: 5e-5) on every parameter, head included, no weight decay, cosine decay stepped
# once per epoch, no warm-up, no gradient clipping. Validation on the held-out 20 % after
# every epoch; the configs keep the best val accuracy checkpoint for the test
# (../default_runtime_cls_best.py).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.0))
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=0,
                        end=30, T_max=30)]
train_cfg = dict(by_epoch=True, max_epochs=30, val_interval=1)
auto_scale_lr = dict(enable=False, base_batch_size=128)
