# ResNet-50 fine-tuned on ImageNet-1k; rotated evaluation on its test/val split. The Base twin of
# softeq_resnet50_8xb32-10e_in1k.py.
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    'mmpretrain::_base_/datasets/imagenet_bs64_pil_resize.py',
    '../_base_/schedules/cls_finetune_sgd_10e.py',
    '../_base_/default_runtime_cls.py',
    '../_base_/evaluation/rotated.py',
]
# the mmpretrain model zoo's ResNet-50 trained on ImageNet-1k (76.55 top-1)
load_from = 'https://download.openmmlab.com/mmclassification/v0/resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth'  # noqa: E501

# Total batch 256 = 8 GPUs x 32 images.
train_dataloader = dict(batch_size=32)
val_dataloader = dict(batch_size=32)
test_dataloader = val_dataloader
auto_scale_lr = dict(base_batch_size=256)
