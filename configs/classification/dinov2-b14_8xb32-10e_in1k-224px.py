# DINOv2 ViT-B/14 fine-tuned on ImageNet-1k; rotated evaluation on its test/val split. The Base twin
# of softeq_dinov2-b14_8xb32-10e_in1k-224px.py.
_base_ = [
    '../_base_/models/dinov2-b14_cls.py',
    'mmpretrain::_base_/datasets/imagenet_bs64_pil_resize.py',
    '../_base_/schedules/cls_finetune_adamw_10e.py',
    '../_base_/default_runtime_cls.py',
    '../_base_/evaluation/rotated.py',
]
model = dict(head=dict(num_classes=1000))
# backbone lr 1e-5 (as the paper's DINOv2 on VOC), the new head 1e-3
optim_wrapper = dict(
    optimizer=dict(lr=1e-5),
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=100.0)}))

# Total batch 256 = 8 GPUs x 32 images.
train_dataloader = dict(batch_size=32)
val_dataloader = dict(batch_size=32)
test_dataloader = val_dataloader
auto_scale_lr = dict(base_batch_size=256)
