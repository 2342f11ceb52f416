# Fine-tuning schedule for the ResNet-50 classification configs (ours: the paper states no
# classification recipe): the model starts from a converged checkpoint of the same task, so a
# small SGD lr (1e-3, momentum 0.9, weight decay 1e-4) with cosine decay over 10 epochs
# adapts it to the projected kernels.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=0, end=10, T_max=10,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=1)
