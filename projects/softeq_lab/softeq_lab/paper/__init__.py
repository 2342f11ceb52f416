"""The paper's table cells: which config runs which cell, the comparison with the paper's
numbers, and the strict C4 invariance check of the CIFAR ResNet-50."""
