# The rotated evaluation of rotated.py with the paper's eErr reduction: the KL divergence
# pooled over the valid pixels (eerr_reduction='pixel': one mean over every valid pixel of
# the evaluated set). The paper's code pools the valid pixels of each batch and averages
# the batches; pooling over the whole set is the batch-independent form of it
# (docs/evaluation.md, "Segmentation")..
_base_ = ['./rotated.py']

paper_rotated_metric = dict(type='mmsofteq.RotatedIoUMetric', eerr_reduction='pixel')
val_cfg = dict(rotated_metric=paper_rotated_metric)
test_cfg = dict(rotated_metric=paper_rotated_metric)
