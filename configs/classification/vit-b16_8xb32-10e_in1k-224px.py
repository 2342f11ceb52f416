# ViT-B/16 fine-tuned on ImageNet-1k; rotated evaluation on its test/val split. The Base twin of
# softeq_vit-b16_8xb32-10e_in1k-224px.py.
_base_ = [
    'mmpretrain::_base_/models/vit-base-p16.py',
    'mmpretrain::_base_/datasets/imagenet_bs64_pil_resize.py',
    '../_base_/schedules/cls_finetune_adamw_10e.py',
    '../_base_/default_runtime_cls.py',
    '../_base_/evaluation/rotated.py',
]
# ImageNet-21k pre-trained, ImageNet-1k fine-tuned (at 384 px) whole model, backbone and
# head; the 24x24 position grid is resized to 14x14 when loaded.
load_from = 'https://download.openmmlab.com/mmclassification/v0/vit/finetune/vit-base-p16_in21k-pre-3rdparty_ft-64xb64_in1k-384_20210928-98e8652b.pth'  # noqa: E501
model = dict(backbone=dict(img_size=224))
# the head is pre-trained too: one lr for all (5e-5)
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=1.0)}))
# the normalisation the checkpoint was trained with
data_preprocessor = dict(mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5], to_rgb=True)

# Total batch 256 = 8 GPUs x 32 images.
train_dataloader = dict(batch_size=32)
val_dataloader = dict(batch_size=32)
test_dataloader = val_dataloader
auto_scale_lr = dict(base_batch_size=256)
