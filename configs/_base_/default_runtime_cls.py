# mmpretrain's default runtime, keeping the two newest epoch checkpoints and a fixed seed.
_base_ = ['mmpretrain::_base_/default_runtime.py']

default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2))
randomness = dict(seed=0, deterministic=False)
