# mmpretrain's default runtime, keeping the two newest epoch checkpoints and a fixed seed, plus
# mmsofteq's check for non-finite weights and loss and a 300 s collective timeout (a rank that
# stops answering ends the job after 5 min, not 30; docs/security.md).
_base_ = ['mmpretrain::_base_/default_runtime.py']

default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2),
    # mmsofteq: stop on NaN / Inf weights or loss (off: default_hooks.finite_check=None)
    finite_check=dict(type='mmsofteq.FiniteCheckHook'),
    # mmsofteq: one training per work dir, no write or delete outside it (docs/security.md)
    run_guard=dict(type='mmsofteq.RunGuardHook'),
    # mmsofteq: a bad label or image value stops the run naming its file
    data_check=dict(type='mmsofteq.DataCheckHook'))
randomness = dict(seed=0, deterministic=False)
env_cfg = dict(dist_cfg=dict(timeout=300))
