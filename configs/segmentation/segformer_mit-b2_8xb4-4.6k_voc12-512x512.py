# SegFormer MiT-B2 on PASCAL VOC 2012: the MiT-B0 recipe
# (segformer_mit-b0_8xb4-4.6k_voc12-512x512.py) with the MiT-B2 backbone and its ADE20K
# weights (mmseg model zoo). Base twin of softeq_segformer_mit-b2_8xb4-4.6k_voc12-512x512.py.
_base_ = ['./segformer_mit-b0_8xb4-4.6k_voc12-512x512.py']
model = dict(
    backbone=dict(embed_dims=64, num_heads=[1, 2, 5, 8], num_layers=[3, 4, 6, 3]),
    decode_head=dict(in_channels=[64, 128, 320, 512]))
load_from = 'https://download.openmmlab.com/mmsegmentation/v0.5/segformer/segformer_mit-b2_512x512_160k_ade20k/segformer_mit-b2_512x512_160k_ade20k_20210726_112103-cbd414ac.pth'  # noqa: E501
