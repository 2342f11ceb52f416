#!/usr/bin/env bash
# Create (or complete) the pinned virtual environment at .venv (see docs/installation.md).
#
#   bash tools/install_env.sh          # what `make test` / `make demo` / .ci/run call first
#
# Idempotent: a finished install leaves .venv/.mmsofteq-installed holding a fingerprint of
# this script and the interpreter; a later call with the same fingerprint returns at once
# (editing this script re-runs it, and pip then skips what is already installed).
# mmcv has no wheel for this torch, so it is built from source once per torch version and ops
# flavour (CPU ops, or CUDA ops where torch sees a GPU or FORCE_CUDA=1) and kept under
#   ${MMSOFTEQ_WHEEL_CACHE:-~/.cache/mmsofteq/wheels}/torch-<version>[-cuda]/
# so a new venv or a new checkout never rebuilds it (the build took ~20 min on 2 cores),
# and a different torch never reuses a wheel built against another one.
# Environment: PYTHON (interpreter for the venv, default python3), MAX_JOBS (build jobs,
# default: all cores), MMSOFTEQ_WHEEL_CACHE, FORCE_CUDA=1 (build mmcv's CUDA ops).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ROOT}/.venv"
PYTHON="${PYTHON:-python3}"
SCRIPT="${ROOT}/tools/install_env.sh"

TORCH_VERSION="2.14.1"
TORCHVISION_VERSION="0.29.1"
MMCV_VERSION="2.1.0"
MMENGINE_VERSION="0.10.7"
MMSEG_VERSION="1.2.2"
MMPRETRAIN_VERSION="1.2.0"

STAMP="${VENV}/.mmsofteq-installed"
fingerprint() {
    { cat "${SCRIPT}"; "${PYTHON}" -c 'import sys; print(sys.version)'; } | sha1sum | cut -c1-12
}
FINGERPRINT="$(fingerprint)"
if [[ -f "${STAMP}" && "$(cat "${STAMP}")" == "${FINGERPRINT}" ]]; then
    exit 0
fi

log() { echo "[install_env] $*"; }

# One install at a time on this machine: concurrent runs would race on the venv and on the
# shared mmcv wheel cache. The second caller waits, then finds the stamp and returns.
CACHE_ROOT="${MMSOFTEQ_WHEEL_CACHE:-${HOME}/.cache/mmsofteq/wheels}"
mkdir -p "${CACHE_ROOT}"
if command -v flock >/dev/null 2>&1; then
    exec 9>"${CACHE_ROOT}/.install.lock"
    if ! flock -n 9; then
        log "another install is running; waiting for it"
        flock 9
    fi
    if [[ -f "${STAMP}" && "$(cat "${STAMP}")" == "${FINGERPRINT}" ]]; then
        exit 0
    fi
fi

log "first install into ${VENV}: 5 steps, ~25 min on 2 cores; step 3 (the mmcv build) takes" \
    "~20 min unless its wheel is cached, the others ~1-3 min each (package downloads)"
if [[ ! -x "${VENV}/bin/python" ]]; then
    log "creating virtual environment at ${VENV}"
    "${PYTHON}" -m venv "${VENV}"
fi
PIP=("${VENV}/bin/python" -m pip --disable-pip-version-check --no-input)
"${PIP[@]}" install -q --upgrade pip

log "[1/5] installing torch==${TORCH_VERSION} torchvision==${TORCHVISION_VERSION}"
"${PIP[@]}" install -q "torch==${TORCH_VERSION}" "torchvision==${TORCHVISION_VERSION}"
# mmcv 2.1.0's setup.py (it imports pkg_resources) fails to build with setuptools >= 70.
# pip then reports "torch 2.14.1 requires setuptools>=77.0.3": expected and harmless (torch
# wants it only for its own C++ extension builds); mmengine needs pkg_resources at run time.
log "[2/5] installing the build tools (setuptools<70, wheel, ninja), numpy, scipy"
"${PIP[@]}" install -q "setuptools<70" wheel ninja "numpy<2.5" scipy

FLAVOUR=""
if [[ "${FORCE_CUDA:-0}" == "1" ]] || "${VENV}/bin/python" -c \
        'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    FLAVOUR="-cuda"
fi
WHEEL_DIR="${CACHE_ROOT}/torch-${TORCH_VERSION}${FLAVOUR}"
mkdir -p "${WHEEL_DIR}"
if ! ls "${WHEEL_DIR}"/mmcv-"${MMCV_VERSION}"-*.whl >/dev/null 2>&1; then
    log "[3/5] building mmcv==${MMCV_VERSION} with ${FLAVOUR:+CUDA and }CPU ops" \
        "(about 20 min on 2 cores, once per torch version; pip reports 'still running')"
    BUILD_DIR="$(mktemp -d)"
    trap 'rm -rf "${BUILD_DIR}"' EXIT
    "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation \
        -d "${BUILD_DIR}" "mmcv==${MMCV_VERSION}"
    tar -xzf "${BUILD_DIR}/mmcv-${MMCV_VERSION}.tar.gz" -C "${BUILD_DIR}"
    # torch >= 2.10 headers require C++20; mmcv 2.1.0's setup.py asks for C++17.
    sed -i 's/-std=c++17/-std=c++20/g' "${BUILD_DIR}/mmcv-${MMCV_VERSION}/setup.py"
    # --no-build-isolation: build against the torch installed above, not the newest one.
    MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" "${PIP[@]}" wheel --no-build-isolation \
        --no-deps --no-cache-dir -w "${BUILD_DIR}/wheel" "${BUILD_DIR}/mmcv-${MMCV_VERSION}"
    # Publish atomically: an interrupted build never leaves a half-written wheel in the cache.
    WHEEL="$(ls "${BUILD_DIR}"/wheel/mmcv-"${MMCV_VERSION}"-*.whl)"
    cp "${WHEEL}" "${WHEEL_DIR}/.partial"
    mv "${WHEEL_DIR}/.partial" "${WHEEL_DIR}/$(basename "${WHEEL}")"
fi
log "[3/5] mmcv wheel: ${WHEEL_DIR}; [4/5] installing mmengine and mmcv"
# mmcv's runtime requirements (mmengine, addict, yapf, ...) first, then mmcv without letting
# pip resolve (and touch) torch.
"${PIP[@]}" install -q "mmengine==${MMENGINE_VERSION}" addict packaging Pillow pyyaml yapf \
    opencv-python
"${PIP[@]}" install -q --no-deps "${WHEEL_DIR}"/mmcv-"${MMCV_VERSION}"-*.whl

log "[5/5] installing mmsegmentation, mmpretrain and test tools"
"${PIP[@]}" install -q "mmsegmentation==${MMSEG_VERSION}" "mmpretrain==${MMPRETRAIN_VERSION}" \
    ftfy regex scikit-learn matplotlib pytest
# Editable install of this checkout, unless the venv already imports mmsofteq from here
# (reinstalling would briefly uninstall it under anyone using the venv).
if ! (cd / && "${VENV}/bin/python" -c 'import os, sys, mmsofteq
sys.exit(0 if os.path.dirname(os.path.dirname(os.path.abspath(mmsofteq.__file__))) == sys.argv[1] else 1)' \
        "${ROOT}") >/dev/null 2>&1; then
    "${PIP[@]}" install -q --no-deps -e "${ROOT}"
fi
# The experiments project beside the plugin (projects/softeq_lab: sweeps, paper cells, demo).
if ! (cd / && "${VENV}/bin/python" -c 'import os, sys, softeq_lab
sys.exit(0 if os.path.dirname(os.path.dirname(os.path.abspath(softeq_lab.__file__))) == sys.argv[1] else 1)' \
        "${ROOT}/projects/softeq_lab") >/dev/null 2>&1; then
    "${PIP[@]}" install -q --no-deps -e "${ROOT}/projects/softeq_lab"
fi

(cd / && "${VENV}/bin/python" - <<'PY')
import torch, torchvision, mmcv, mmcv.ops, mmengine, mmseg.models, mmpretrain.models  # noqa: F401
import mmsofteq, softeq_lab  # noqa: F401
print(f"[install_env] ok: torch {torch.__version__}, torchvision {torchvision.__version__}, "
      f"mmcv {mmcv.__version__}, mmengine {mmengine.__version__}, "
      f"mmseg {__import__('mmseg').__version__}, mmpretrain {__import__('mmpretrain').__version__}")
PY
echo "${FINGERPRINT}" > "${STAMP}"
