#!/usr/bin/env bash
# Multi-process testing, as mmseg's tools/dist_test.sh, on GPUs (NCCL) or CPU-only (gloo).
#   bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [tools/test.py arguments...]
# Environment: see tools/dist_launch.sh (PORT, NNODES, NODE_RANK, MASTER_ADDR, PYTHON).
set -euo pipefail
if [[ $# -lt 3 ]]; then
    echo "usage: $0 CONFIG CHECKPOINT NPROC [tools/test.py arguments...]" >&2
    exit 2
fi
exec bash "$(dirname "${BASH_SOURCE[0]}")/dist_launch.sh" test.py "$3" "$1" "$2" "${@:4}"
