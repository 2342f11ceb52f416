# Orbit-averaged (C4) SegFormer MiT-B0 on PASCAL VOC 2012: the Base twin
# segformer_mit-b0_8xb4-4.6k_voc12-512x512.py with logits averaged over the four quarter turns
# (recipe: _base_/baselines/orbit_c4.py). Quarter turns need square inputs, so inference is
# slide-window on 512x512 crops instead of the twin's whole-image mode (VOC val images are
# resized to short side 512: every crop is square); the only change besides the wrapper.
_base_ = ['./segformer_mit-b0_8xb4-4.6k_voc12-512x512.py', '../_base_/baselines/orbit_c4.py']
model = dict(_delete_=True, type='mmsofteq.OrbitAveragedModel',
             model=dict(_base_.model, test_cfg=dict(mode='slide', crop_size=_base_.crop_size,
                                                    stride=(341, 341))),
             **_base_.orbit)
