# Front door: DINOv2-B/14 + linear head (Base, no projection) on PASCAL VOC 2012.
#   python tools/train.py configs/dinov2_base_voc.py
_base_ = ['./segmentation/linear_dinov2-b14_8xb4-4.6k_voc12-512x512.py']
