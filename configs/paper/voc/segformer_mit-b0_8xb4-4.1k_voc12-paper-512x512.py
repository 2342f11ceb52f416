# Paper Tab. 4 / 10, Base row: SegFormer MiT-B0 on PASCAL VOC 2012 at 512 px from the ADE20K
# weights, under the paper's protocol (see
# linear_vit-b16_8xb4-4.1k_voc12-paper-224x224.py). mmseg's standard protocol for the same
# model: configs/segmentation/segformer_mit-b0_8xb4-4.6k_voc12-512x512.py.
_base_ = [
    'mmseg::_base_/models/segformer_mit-b0.py',
    '../../_base_/datasets/voc12_paper_512x512.py',
    '../../_base_/voc_paper_protocol.py',
]
crop_size = (512, 512)
data_preprocessor = dict(
    size=crop_size, mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
model = dict(data_preprocessor=data_preprocessor, decode_head=dict(num_classes=21),
             test_cfg=dict(_delete_=True, mode='whole'))
# Whole-model weights trained on ADE20K (mmseg model zoo, as the paper's HF checkpoint); the
# 150-class classifier is re-initialised for VOC's 21 classes.
load_from = 'https://download.openmmlab.com/mmsegmentation/v0.5/segformer/segformer_mit-b0_512x512_160k_ade20k/segformer_mit-b0_512x512_160k_ade20k_20210726_101530-8ffa8fda.pth'  # noqa: E501
# backbone lr 1e-4, head 1e-3 (x10), weight decay 0.01 on every parameter: the schedule's own
