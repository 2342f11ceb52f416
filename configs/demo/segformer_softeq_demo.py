# The embedded demo, soft-equivariant twin: segformer_base_demo.py plus the SegFormer softeq
# recipe (_base_/softeq/segformer_so2.py) at softness 0.8 with every k > 1 kernel projected
# (min_kernel_size=2: the 7x7 and 3x3 patch embeddings, the spatial-reduction and the Mix-FFN
# depthwise convs): 11 tensors, 155 of 196 directions kept. The recipe's VOC setting
# (softness 0.95, k <= 3 untouched) would project the 7x7 stem and 2x2 reduction only. Same
# start (the pretraining checkpoint), data, schedule and rotated evaluation as the Base twin.
#   python tools/demo/run_demo.py --softness 0.5     # another softness for this twin
_base_ = ['./segformer_base_demo.py', '../_base_/softeq/segformer_so2.py']
model = dict(_delete_=True, type='mmsofteq.SoftEqModel', model=_base_.model,
             softeq=dict(_base_.softeq, softness=0.8, min_kernel_size=2))
