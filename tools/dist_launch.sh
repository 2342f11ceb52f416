#!/usr/bin/env bash
# Start NPROC processes of a tool with torchrun (GPUs with NCCL, CPU-only with gloo): the body
# of tools/dist_train.sh and tools/dist_test.sh, as mmseg's.
#   bash tools/dist_launch.sh TOOL.py NPROC [tool arguments...]
# Environment: PORT (29500), NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1),
# PYTHON (default: the repo's .venv/bin/python when present, else python).
set -euo pipefail

TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOL=$1
NPROC=$2
ROOT="$(dirname "${TOOLS_DIR}")"
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "${ROOT}/.venv/bin/python" ]]; then PYTHON="${ROOT}/.venv/bin/python"; else PYTHON=python; fi
fi
exec "${PYTHON}" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="${NPROC}" \
    --master_port="${PORT:-29500}" \
    "${TOOLS_DIR}/${TOOL}" "${@:3}" --launcher pytorch
