# The authors' ImageNet fine-tuning as it ran (their train_imagenet.sh and main_imagenet.py on
# timm; paper Tab. 14 lists the flags), where what ran differs from the flags:
# * 512 images per optimizer update: they ran 1 GPU x batch 128 x --grad-accum-steps 4; here
#   8 GPUs x 16 x optim_wrapper.accumulative_counts=4 (on N GPUs keep N x batch_size x
#   accumulative_counts = 512);
# * no layer-wise lr decay: their --layer-decay 0.65 has no effect on the Hugging Face models
#   (timm finds no layer groups and puts every parameter in one group at lr scale 1);
# * AdamW lr 1e-5, weight decay 0.05 (DINOv2: 0.04) on every tensor of two or more dimensions,
#   the position grid and cls token included; none on 1-D tensors (biases, norms, scales);
# * timm's cosine stepped once per epoch with the 4 warm-up epochs (from 1e-6) inside the 15
#   (mmsofteq.TimmCosineLR): 1.0, 3.25, 5.5, 7.75, 8.51 (peak), ..., 1.10 x 1e-6;
# * EMA of weights and buffers, decay 0.9999 per optimizer update (EMAHook momentum 1e-4,
#   interval = accumulative_counts), evaluated in place of the raw weights;
# * gradient clipping at norm 1.0; bf16 autocast.
optim_wrapper = dict(
    type='AmpOptimWrapper',
    dtype='bfloat16',
    accumulative_counts=4,
    optimizer=dict(type='AdamW', lr=1e-5, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=1.0, norm_type=2),
    paramwise_cfg=dict(bias_decay_mult=0.0, norm_decay_mult=0.0, flat_decay_mult=0.0))
param_scheduler = [
    dict(type='mmsofteq.TimmCosineLR', warmup_epochs=4, warmup_factor=0.1, min_factor=0.1,
         by_epoch=True, begin=0, end=15),
]
train_cfg = dict(by_epoch=True, max_epochs=15, val_interval=1)
custom_hooks = [dict(type='EMAHook', momentum=1e-4, update_buffers=True, interval=4,
                     priority='ABOVE_NORMAL')]
auto_scale_lr = dict(enable=False, base_batch_size=512)
