# Front door: soft SO(2)-equivariant DINOv2-B/14 + linear head on PASCAL VOC 2012.
#   python tools/train.py configs/dinov2_softeq_voc.py
_base_ = ['./segmentation/softeq_linear_dinov2-b14_8xb4-4.6k_voc12-512x512.py']
