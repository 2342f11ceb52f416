# DINOv2 ViT-B/14 fine-tuned on CIFAR-10; rotated evaluation on its test/val split. The Base twin of
# softeq_dinov2-b14_8xb16-10e_cifar10-224px.py.
_base_ = [
    '../_base_/models/dinov2-b14_cls.py',
    '../_base_/datasets/cifar10_224px.py',
    '../_base_/schedules/cls_finetune_adamw_10e.py',
    '../_base_/default_runtime_cls.py',
    '../_base_/evaluation/rotated.py',
]
model = dict(head=dict(num_classes=10))
# DINOv2 was trained with ImageNet's normalisation
data_preprocessor = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
# backbone lr 1e-5 (as the paper's DINOv2 on VOC), the new head 1e-3
optim_wrapper = dict(
    optimizer=dict(lr=1e-5),
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=100.0)}))

# Total batch 128 = 8 GPUs x 16 images.
auto_scale_lr = dict(base_batch_size=128)
