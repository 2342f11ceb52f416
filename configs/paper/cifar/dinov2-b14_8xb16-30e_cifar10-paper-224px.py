# Paper Tab. 1 / 10, Base row: dinov2-b14 fine-tuned on CIFAR-10 under the paper's protocol
# (80/20 split of the training set by seed, best val checkpoint tested on the test
# set, RandomRotation(10), 224 px, 30 epochs, AdamW lr 5e-5, no weight decay, per-epoch cosine).
# mmsofteq's own recipe for the same model: configs/classification/.
_base_ = [
    '../../_base_/models/dinov2-b14_cls.py',
    '../../_base_/datasets/cifar10_paper_224px.py',
    '../../_base_/schedules/cls_paper_cifar_adamw_30e.py',
    '../../_base_/default_runtime_cls_best.py',  # keeps the best val checkpoint
    '../../_base_/evaluation/rotated.py',
]
# DINOv2 ViT-B/14 (mmpretrain model zoo, LVD-142M pre-training) and a new 10-class linear head
# on [cls token, mean patch token] (Hugging Face's Dinov2ForImageClassification, which the
# authors' runs used); 224 px inputs give a 16 x 16 patch grid. cross-entropy, no drop path (the
# recipe has neither label smoothing nor drop path)
model = dict(backbone=dict(drop_path_rate=0.0, out_type='raw'),
             neck=dict(_delete_=True, type='mmsofteq.ClsAndMeanPatchNeck'),
             head=dict(num_classes=10, in_channels=2 * 768,
                       loss=dict(_delete_=True, type='CrossEntropyLoss')))
data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=False)
# AdamW lr 5e-5 for DINOv2
optim_wrapper = dict(optimizer=dict(lr=5e-5))
