#!/usr/bin/env bash
# Multi-process training, as mmseg's tools/dist_train.sh, on GPUs (NCCL) or CPU-only (gloo).
#   bash tools/dist_train.sh CONFIG NPROC [tools/train.py arguments...]
# Environment: see tools/dist_launch.sh (PORT, NNODES, NODE_RANK, MASTER_ADDR, PYTHON).
set -euo pipefail
if [[ $# -lt 2 ]]; then
    echo "usage: $0 CONFIG NPROC [tools/train.py arguments...]" >&2
    exit 2
fi
exec bash "$(dirname "${BASH_SOURCE[0]}")/dist_launch.sh" train.py "$2" "$1" "${@:3}"
