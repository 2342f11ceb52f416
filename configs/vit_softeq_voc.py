# Front door: soft SO(2)-equivariant ViT-B/16 + linear head on PASCAL VOC 2012.
#   python tools/train.py configs/vit_softeq_voc.py
_base_ = ['./segmentation/softeq_linear_vit-b16_8xb4-4.6k_voc12-224x224.py']
