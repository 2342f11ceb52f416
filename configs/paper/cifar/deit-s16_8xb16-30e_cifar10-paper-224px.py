# Paper Tab. 1 / 10, Base row: deit-s16 fine-tuned on CIFAR-10 under the paper's protocol
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
# DeiT-S/16 (facebook/deit-small-patch16-224 in the authors' config/vit_classif.yaml; here
# mmpretrain's conversion of the same official DeiT-S, ImageNet-1k, 14 x 14 position grid),
# backbone only: a new 10-class linear head on the cls token.
deit_checkpoint = 'https://download.openmmlab.com/mmclassification/v0/deit/deit-small_pt-4xb256_in1k_20220218-9425b9bb.pth'  # noqa: E501
# cross-entropy, no dropout or drop path (the recipe has none)
model = dict(
    backbone=dict(arch='deit-small', img_size=224, drop_rate=0.0, drop_path_rate=0.0,
                  init_cfg=dict(_delete_=True, type='Pretrained', checkpoint=deit_checkpoint,
                                prefix='backbone.')),
    head=dict(num_classes=10, in_channels=384,
              loss=dict(_delete_=True, type='CrossEntropyLoss')))
# the normalisation DeiT was trained with (ImageNet mean / std)
data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=False)
