# default_runtime_cls.py, keeping the checkpoint with the best validation accuracy
# (best_accuracy_top1_epoch_*.pth: the paper's selection on its held-out split, tested by
# tools/train.py --test-best) besides the latest one (for --resume).
_base_ = ['./default_runtime_cls.py']

default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1, save_last=True,
                    save_best='accuracy/top1', rule='greater'))
