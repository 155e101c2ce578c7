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
  .venv/bin/pip install -q -r requirements.txt
  # misaki without its [en] extra (which pulls CUDA torch); its deps are in requirements.txt.
  .venv/bin/pip install -q --no-deps misaki==0.9.4
  .venv/bin/pip install -q --no-deps -e .
}

apt_install
venv_install
echo "setup: done (.venv ready)"
