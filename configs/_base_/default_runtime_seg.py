# mmseg's default runtime plus a 300 s collective timeout (a rank that stops answering ends the
# job after 5 min, not gloo/NCCL's default 30), also under mmseg's own tools/train.py
# (docs/security.md). mmsofteq's tools set the same default for configs without this base.
_base_ = ['mmseg::_base_/default_runtime.py']

env_cfg = dict(dist_cfg=dict(timeout=300))
