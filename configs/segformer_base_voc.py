# Front door: SegFormer MiT-B0 (Base, no projection) on PASCAL VOC 2012.
#   python tools/train.py configs/segformer_base_voc.py
_base_ = ['./segmentation/segformer_mit-b0_8xb4-4.6k_voc12-512x512.py']
