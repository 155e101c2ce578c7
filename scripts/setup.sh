#!/usr/bin/env bash
# Installs everything Paper Radio needs on a fresh Debian/Ubuntu machine:
# Debian servers and tools (when root or sudo is available) and a project venv.
# Idempotent: re-running skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  mosquitto mosquitto-clients ffmpeg sox icecast2 nginx libnginx-mod-rtmp
  obs-studio xvfb xauth libgl1-mesa-dri espeak-ng flite
  chromium chromium-driver docker-compose iproute2 util-linux postgresql
)

apt_install() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "setup: not root and no sudo; install: ${APT_PACKAGES[*]}" >&2; return 0; }
    sudo="sudo"
  fi
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup: apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian packages start their own daemons; tests start private instances instead.
  for svc in mosquitto icecast2 nginx postgresql; do $sudo service "$svc" stop >/dev/null 2>&1 || true; done
}

venv_install() {
  local py="${PYTHON:-python3}"
  [ -x .venv/bin/python ] || "$py" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  # torch first and alone: 2.13.0 is the local CPU build; anything else pulls CUDA.
  .venv/bin/pip install -q torch==2.13.0
  # llama-cpp-python builds llama.cpp from source for this CPU (-march=native), AMX included
  # where the CPU lists it; its AMX kernels then crash on the first call (a general
  # protection fault in ggml_backend_amx_mul_mat, seen on a Xeon VM that does not grant the
  # tiles). So AMX stays out of the build, and a build with it (pip's wheel cache may hold
  # one) is replaced.
  local no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
  export CMAKE_ARGS="${CMAKE_ARGS:-"-DCMAKE_C_FLAGS='$no_amx' -DCMAKE_CXX_FLAGS='$no_amx'"}"
  .venv/bin/pip install -q -r requirements.txt
  if .venv/bin/python -c "import llama_cpp as l, sys
sys.exit('AMX_INT8 = 1' not in l.llama_print_system_info().decode())" 2>/dev/null; then
    echo "setup: rebuilding llama-cpp-python without AMX (about 10 minutes)"
    .venv/bin/pip cache remove 'llama_cpp_python*' >/dev/null 2>&1 || true
    .venv/bin/pip install -q --force-reinstall --no-deps \
      "$(grep -o '^llama-cpp-python[^=]*==[0-9.]*' requirements.txt | sed 's/\[.*\]//')"
  fi
  # misaki without its [en] extra (which pulls CUDA torch); its deps are in requirements.txt.
  .venv/bin/pip install -q --no-deps misaki==0.9.4
  .venv/bin/pip install -q --no-deps -e .
}

apt_install
venv_install
echo "setup: done (.venv ready)"
