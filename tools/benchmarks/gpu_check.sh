#!/usr/bin/env bash
# The GPU check in one command (sized for <= 8 minutes on one H100 with 16 cores).
#
#   tools/benchmarks/gpu_check.sh prepare      # here (package registries reachable): download the
#                                              # Python 3.12 wheels and the mmcv 2.1.0 source into
#                                              # .gpu_check/wheels (git-ignored, ~15 MB; carried along)
#   tools/benchmarks/gpu_check.sh run          # on the GPU machine (no network): install them, build
#                                              # mmcv with its CPU ops on every core, then
#                                              # tools/benchmarks/gpu_check.py (3 paper configs, Base vs
#                                              # SoftEq, bf16), the launcher path through torchrun + NCCL,
#                                              # and the CUDA AMP tests; writes $OUT/gpu_check.md
#   tools/benchmarks/gpu_check.sh run --tiny   # the same at CPU test size (tests/tools/test_gpu_check.py)
#
# Each step prints its start and its wall time; installs and builds are skipped when the
# packages already import. Environment: OUT (report folder, default work_dirs/gpu_check),
# PYTHON (default python3), GPU_PYTHON_VERSION (prepare; default 3.12).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WHEELS="$ROOT/.gpu_check/wheels"
OUT="${OUT:-$ROOT/work_dirs/gpu_check}"
PYTHON="${PYTHON:-python3}"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

# OpenMMLab packages and the dependencies a plain torch + opencv + matplotlib + scipy Python lacks
PACKAGES=(mmengine==0.10.7 mmsegmentation==1.2.2 mmpretrain==1.2.0 addict yapf platformdirs
          termcolor rich markdown-it-py mdurl pygments prettytable wcwidth mat4py modelindex
          ordered-set markdown importlib-metadata zipp ftfy regex einops pyyaml pytest pluggy
          iniconfig packaging "setuptools<70" wheel ninja)
MMCV=mmcv==2.1.0

CORES="$(getconf _NPROCESSORS_ONLN)"  # nproc would follow OMP_NUM_THREADS

log() { echo "[gpu_check.sh $(date -u +%H:%M:%S)] $*"; }

prepare() {
    local version="${GPU_PYTHON_VERSION:-3.12}"
    mkdir -p "$WHEELS"
    log "downloading wheels for Python $version into $WHEELS"
    "$PYTHON" -m pip download --quiet --dest "$WHEELS" --no-deps --only-binary=:all: \
        --python-version "$version" --implementation cp \
        --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform any \
        "${PACKAGES[@]}"
    # the source archive; its metadata step needs setuptools<70 (pkg_resources), so no isolation
    "$PYTHON" -m pip download --quiet --dest "$WHEELS" --no-deps --no-binary=:all: \
        --no-build-isolation "$MMCV"
    log "done: $(ls "$WHEELS" | wc -l) files, $(du -sh "$WHEELS" | cut -f1)"
}

EXTRA=()
timed() {  # timed NAME COMMAND...: run, print and record the wall time
    local name="$1"; shift
    local start; start=$(date +%s.%N)
    log "$name: start"
    "$@"
    local seconds; seconds=$("$PYTHON" -c "print(f'{$(date +%s.%N) - $start:.0f}')")
    log "$name: ${seconds} s"
    EXTRA+=(--extra "$name=${seconds} s")
}

install_packages() {
    if "$PYTHON" -c 'import mmengine, mmseg, mmpretrain, pytest' 2>/dev/null; then
        log "install: mmengine, mmseg, mmpretrain, pytest already import; skipped"
        return
    fi
    # --no-deps: exactly these wheels; the machine's torch, numpy, scipy, matplotlib and
    # opencv (whatever its distribution name, mmengine asks for opencv-python) stay as they are
    "$PYTHON" -m pip install --quiet --no-index --find-links "$WHEELS" --no-deps "${PACKAGES[@]}"
    "$PYTHON" -c 'import mmengine, mmseg, mmpretrain, pytest, cv2, matplotlib, scipy'
}

build_mmcv() {
    if "$PYTHON" -c 'import mmcv, mmcv.ops' 2>/dev/null; then
        log "mmcv build: mmcv with ops already imports; skipped"
        return
    fi
    # CPU ops only (CUDA hidden while building): enough for these models, minutes not tens
    CUDA_VISIBLE_DEVICES="" MMCV_WITH_OPS=1 MAX_JOBS="$CORES" \
        "$PYTHON" -m pip install --quiet --no-index --find-links "$WHEELS" \
        --no-build-isolation --no-deps "$MMCV"
}

run() {
    local tiny=()
    [[ "${1:-}" == "--tiny" ]] && tiny=(--tiny --device cpu)
    mkdir -p "$OUT"
    local started; started=$(date +%s)
    timed "install (wheels)" install_packages
    timed "mmcv 2.1.0 build (CPU ops, $CORES cores)" build_mmcv
    "$PYTHON" "$ROOT/tools/benchmarks/gpu_check.py" --out "$OUT" "${tiny[@]}" "${EXTRA[@]}"

    local config="$OUT/configs/segformer_softeq.py" rc=0 start
    start=$(date +%s)
    log "launcher path: torchrun --nproc_per_node 1 tools/train.py ... --launcher pytorch"
    "$PYTHON" -m torch.distributed.run --nproc_per_node 1 --master_port 29533 \
        "$ROOT/tools/train.py" "$config" --launcher pytorch \
        --work-dir "$OUT/work_dirs/torchrun" --cfg-options train_cfg.max_iters=4 \
        train_cfg.val_interval=4 > "$OUT/torchrun.log" 2>&1 || rc=$?
    local backend; backend=$(grep -o "backend='[a-z]*'" "$OUT/configs/segformer_softeq.py" | head -1)
    echo "" >> "$OUT/gpu_check.md"
    echo "- launcher path (torchrun, 1 process, $backend, SegFormer-B0 SoftEq, 4 iterations + rotated validation): rc $rc in $(( $(date +%s) - start )) s (log: torchrun.log)" >> "$OUT/gpu_check.md"

    log "CUDA AMP tests"
    local summary
    summary=$(cd "$ROOT" && "$PYTHON" -m pytest tests/engine/test_softeq_amp.py -q -rs \
        -p no:cacheprovider 2>&1 | grep -E "passed|failed|SKIPPED" | tr '\n' ' ') || true
    echo "- tests/engine/test_softeq_amp.py: $summary" >> "$OUT/gpu_check.md"
    echo "- total wall time of gpu_check.sh run: $(( $(date +%s) - started )) s" >> "$OUT/gpu_check.md"
    log "report: $OUT/gpu_check.md"
    cat "$OUT/gpu_check.md"
    return "$rc"
}

case "${1:-}" in
    prepare) prepare ;;
    run) shift; run "$@" ;;
    *) sed -n '2,16p' "$0"; exit 2 ;;
esac
