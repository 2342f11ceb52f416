# Soft SO(2) equivariance of ResNet-50 at softness 0.95. min_kernel_size=4 leaves the k <= 3
# kernels untouched (as the paper's code does above softness 0.8), so only the 7x7 stem is
# projected; the CIFAR ResNet (3x3 stem) sets min_kernel_size=2.
softeq = dict(group='SO2', softness=0.95, cutoff='hard', method='auto', min_kernel_size=4)
