# ViT-B/16 fine-tuned on CIFAR-100; rotated evaluation on its test/val split. The Base twin of
# softeq_vit-b16_8xb16-10e_cifar100-224px.py.
_base_ = [
    'mmpretrain::_base_/models/vit-base-p16.py',
    '../_base_/datasets/cifar100_224px.py',
    '../_base_/schedules/cls_finetune_adamw_10e.py',
    '../_base_/default_runtime_cls.py',
    '../_base_/evaluation/rotated.py',
]
# backbone: ImageNet-21k pre-trained, ImageNet-1k fine-tuned; a new head
vit_checkpoint = 'https://download.openmmlab.com/mmclassification/v0/vit/finetune/vit-base-p16_in21k-pre-3rdparty_ft-64xb64_in1k-384_20210928-98e8652b.pth'  # noqa: E501
model = dict(
    backbone=dict(
        img_size=224,
        init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=vit_checkpoint,
                      prefix='backbone.')),
    head=dict(num_classes=100))
# the normalisation the checkpoint was trained with (CIFAR images load as RGB)
data_preprocessor = dict(mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5])

# Total batch 128 = 8 GPUs x 16 images.
auto_scale_lr = dict(base_batch_size=128)
