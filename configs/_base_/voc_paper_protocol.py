# The paper's VOC fine-tuning protocol shared by its three Base configs: the AdamW schedule of
# 4,100 iterations, the segmentation runtime and the rotated evaluation as the paper scores it.
_base_ = [
    './schedules/voc_paper_adamw_4.1k.py',
    './default_runtime_seg.py',
    './evaluation/rotated_paper_seg.py',
]
