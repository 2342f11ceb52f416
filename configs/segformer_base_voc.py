# SegFormer MiT-B0 on PASCAL VOC 2012 -- the **Base** twin (no projection) of
# segformer_softeq_voc.py: same data, schedule and rotated evaluation; it is the "Base" row of
# the paper's VOC table (mIoU / aIoU / cIoU / eErr = 65.34 / 61.17 / 63.22 / 11.03).
#   python tools/train.py configs/segformer_base_voc.py
_base_ = [
    'mmseg::_base_/models/segformer_mit-b0.py',
    './_base_/datasets/voc12_rotated_512x512.py',
    './_base_/schedules/voc_adamw_100e.py',
    'mmseg::_base_/default_runtime.py',
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor, decode_head=dict(num_classes=21))
# Whole-model weights trained on ADE20K (mmseg model zoo); the 150-class classifier does not
# fit VOC's 21 classes and is re-initialised (a shape-mismatch warning says so).
load_from = 'https://download.openmmlab.com/mmsegmentation/v0.5/segformer/segformer_mit-b0_512x512_160k_ade20k/segformer_mit-b0_512x512_160k_ade20k_20210726_101530-8ffa8fda.pth'  # noqa: E501
