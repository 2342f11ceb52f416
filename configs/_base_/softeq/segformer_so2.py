# Soft SO(2) equivariance of SegFormer (MiT): every Conv2d with k >= min_kernel_size, at
# softness 0.95. min_kernel_size=4 leaves the k <= 3 kernels untouched (as the paper's code
# does above softness 0.9), so the 7x7 stem embedding and the 8x8 / 4x4 spatial-reduction
# convs are projected; set it to 2 to project the 3x3 patch embeddings and depthwise convs
# too. `tools/analysis_tools/print_projection_report.py CONFIG` lists every tensor.
softeq = dict(group='SO2', softness=0.95, cutoff='hard', method='auto', min_kernel_size=4)
