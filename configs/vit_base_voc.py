# Front door: ViT-B/16 + linear head (Base, no projection) on PASCAL VOC 2012.
#   python tools/train.py configs/vit_base_voc.py
_base_ = ['./segmentation/linear_vit-b16_8xb4-4.6k_voc12-224x224.py']
