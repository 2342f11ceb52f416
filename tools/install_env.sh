#!/usr/bin/env bash
# Create (or complete) the pinned virtual environment at .venv.
#
# Idempotent: a finished install leaves .venv/.mmsofteq-installed holding the
# stack's fingerprint; a later call with the same fingerprint returns at once.
# mmcv is built from source once per torch version and kept as a wheel under
# ${MMSOFTEQ_WHEEL_CACHE:-~/.cache/mmsofteq/wheels}/torch-<version>/, so a new
# venv (or a new checkout) never rebuilds it, and a different torch never
# reuses a wheel built against another one.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ROOT}/.venv"
PYTHON="${PYTHON:-python3}"

TORCH_VERSION="2.14.1"
TORCHVISION_VERSION="0.29.1"
MMCV_VERSION="2.1.0"
STACK="torch==${TORCH_VERSION} torchvision==${TORCHVISION_VERSION} mmcv==${MMCV_VERSION} mmengine==0.10.7 mmsegmentation==1.2.2 mmpretrain==1.2.0"
FINGERPRINT="$(echo "${STACK}" | sha1sum | cut -c1-12)"
STAMP="${VENV}/.mmsofteq-installed"

if [[ -f "${STAMP}" && "$(cat "${STAMP}")" == "${FINGERPRINT}" ]]; then
    exit 0
fi

log() { echo "[install_env] $*"; }

if [[ ! -x "${VENV}/bin/python" ]]; then
    log "creating virtual environment at ${VENV}"
    "${PYTHON}" -m venv "${VENV}"
fi
PIP=("${VENV}/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade pip

log "installing torch==${TORCH_VERSION} torchvision==${TORCHVISION_VERSION}"
"${PIP[@]}" install -q "torch==${TORCH_VERSION}" "torchvision==${TORCHVISION_VERSION}"
"${PIP[@]}" install -q "setuptools<70" wheel ninja "numpy<2.5" scipy

WHEEL_DIR="${MMSOFTEQ_WHEEL_CACHE:-${HOME}/.cache/mmsofteq/wheels}/torch-${TORCH_VERSION}"
mkdir -p "${WHEEL_DIR}"
if ! ls "${WHEEL_DIR}"/mmcv-"${MMCV_VERSION}"-*.whl >/dev/null 2>&1; then
    log "building mmcv==${MMCV_VERSION} with CPU ops (about 11 min on 2 cores, once per torch version)"
    # torch >= 2.10 headers require C++20; mmcv 2.1.0's setup.py asks for C++17.
    BUILD_DIR="$(mktemp -d)"
    trap 'rm -rf "${BUILD_DIR}"' EXIT
    "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation \
        -d "${BUILD_DIR}" "mmcv==${MMCV_VERSION}"
    tar -xzf "${BUILD_DIR}/mmcv-${MMCV_VERSION}.tar.gz" -C "${BUILD_DIR}"
    sed -i 's/-std=c++17/-std=c++20/g' "${BUILD_DIR}/mmcv-${MMCV_VERSION}/setup.py"
    MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" "${PIP[@]}" wheel --no-build-isolation \
        --no-deps --no-cache-dir -w "${WHEEL_DIR}" "${BUILD_DIR}/mmcv-${MMCV_VERSION}"
fi
log "installing mmcv from ${WHEEL_DIR}"
"${PIP[@]}" install -q --no-deps "${WHEEL_DIR}"/mmcv-"${MMCV_VERSION}"-*.whl
# mmcv's runtime requirements (addict, yapf, ...) without letting pip touch torch.
"${PIP[@]}" install -q addict packaging Pillow pyyaml yapf opencv-python

log "installing mmengine, mmsegmentation, mmpretrain and test tools"
"${PIP[@]}" install -q "mmengine==0.10.7" "mmsegmentation==1.2.2" "mmpretrain==1.2.0" \
    ftfy regex scikit-learn matplotlib pytest
"${PIP[@]}" install -q --no-deps -e "${ROOT}"

"${VENV}/bin/python" - <<'PY'
import torch, torchvision, mmcv, mmcv.ops, mmengine, mmseg.models, mmpretrain.models  # noqa: F401
print(f"[install_env] ok: torch {torch.__version__}, torchvision {torchvision.__version__}, "
      f"mmcv {mmcv.__version__}, mmengine {mmengine.__version__}")
PY
echo "${FINGERPRINT}" > "${STAMP}"
