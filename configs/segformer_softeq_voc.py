# Front door: soft SO(2)-equivariant SegFormer MiT-B0 on PASCAL VOC 2012.
#   python tools/train.py configs/segformer_softeq_voc.py
_base_ = ['./segmentation/softeq_segformer_mit-b0_8xb4-4.6k_voc12-512x512.py']
