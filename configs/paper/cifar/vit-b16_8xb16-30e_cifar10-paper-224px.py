# Paper Tab. 1 / 10, Base row: vit-b16 fine-tuned on CIFAR-10 under the paper's protocol
# (80/20 split of the training set by seed, best val checkpoint tested on the test
# set, RandomRotation(10), 224 px, 30 epochs, AdamW lr 1e-4, no weight decay, per-epoch cosine).
# mmsofteq's own recipe for the same model: configs/classification/.
_base_ = [
    'mmpretrain::_base_/models/vit-base-p16.py',
    '../../_base_/datasets/cifar10_paper_224px.py',
    '../../_base_/schedules/cls_paper_cifar_adamw_30e.py',
    '../../_base_/default_runtime_cls_best.py',  # keeps the best val checkpoint
    '../../_base_/evaluation/rotated.py',
]
# ImageNet-21k pre-trained, ImageNet-1k fine-tuned ViT-B/16 (mmpretrain model zoo; the 24 x 24
# position grid is resized to 14 x 14 when loaded), backbone only: a new 10-class head.
vit_checkpoint = 'https://download.openmmlab.com/mmclassification/v0/vit/finetune/vit-base-p16_in21k-pre-3rdparty_ft-64xb64_in1k-384_20210928-98e8652b.pth'  # noqa: E501
# cross-entropy, no dropout or drop path (the recipe has none; mmpretrain's ViT base adds label
# smoothing and dropout 0.1)
model = dict(
    backbone=dict(img_size=224, drop_rate=0.0, drop_path_rate=0.0,
                  init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=vit_checkpoint,
                                prefix='backbone.')),
    head=dict(num_classes=10, loss=dict(_delete_=True, type='CrossEntropyLoss')))
# the normalisation this checkpoint was trained with
data_preprocessor = dict(
    mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5], to_rgb=False)
