# The embedded demo's pretraining: the Base demo model (segformer_base_demo.py) from scratch
# on the upright digits, 1,100 iterations of batch 16 (9 epochs of 2,000 images), cosine from
# 3e-3 after a 50-iteration warm-up. Its checkpoint is the common start of both fine-tunings
# (Base and SoftEq), standing in for the pretrained weights the method adapts.
_base_ = ['./segformer_base_demo.py']

max_iters = 1100
warmup_iters = 50
optim_wrapper = dict(optimizer=dict(lr=3e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=False, begin=warmup_iters,
         end=max_iters, T_max=max_iters - warmup_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
