# SegFormer MiT-B4 on PASCAL VOC 2012 -- the **Base** twin (no projection) of
# segformer_mit-b4_softeq_voc.py. Same data, schedule and rotated evaluation as
# ../segformer_base_voc.py (MiT-B0, the paper's SegFormer row); only the backbone size and
# the ADE20K-trained weights (mmseg model zoo) change. Not in the paper's tables.
#   python tools/train.py configs/segformer/segformer_mit-b4_base_voc.py
_base_ = ['../segformer_base_voc.py']
model = dict(
    backbone=dict(embed_dims=64, num_heads=[1, 2, 5, 8], num_layers=[3, 8, 27, 3]),
    decode_head=dict(in_channels=[64, 128, 320, 512]))
load_from = 'https://download.openmmlab.com/mmsegmentation/v0.5/segformer/segformer_mit-b4_512x512_160k_ade20k/segformer_mit-b4_512x512_160k_ade20k_20210728_183055-7f509d7d.pth'  # noqa: E501
