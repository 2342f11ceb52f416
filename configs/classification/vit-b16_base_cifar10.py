# ViT-B/16 on CIFAR-10 -- the **Base** twin (no projection) of vit-b16_softeq_cifar10.py:
# same data, schedule and rotated evaluation.
# Paper (Base row), Acc / aAcc / cAcc / iErr: 97.79 / 96.62 / 97.20 / 7.21.
#   python tools/train.py configs/classification/vit-b16_base_cifar10.py
_base_ = [
    'mmpretrain::_base_/models/vit-base-p16.py',
    '../_base_/datasets/cifar10_rotated_224.py',
    '../_base_/schedules/cls_finetune_adamw_10e.py',
    '../_base_/default_runtime_cls.py',
]
# backbone: ImageNet-21k pre-trained, ImageNet-1k fine-tuned; a new head
vit_checkpoint = 'https://download.openmmlab.com/mmclassification/v0/vit/finetune/vit-base-p16_in21k-pre-3rdparty_ft-64xb64_in1k-384_20210928-98e8652b.pth'  # noqa: E501
model = dict(
    backbone=dict(
        img_size=224,
        init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=vit_checkpoint,
                      prefix='backbone.')),
    head=dict(num_classes=10))
# the normalisation the checkpoint was trained with (CIFAR images load as RGB)
data_preprocessor = dict(mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5])
