#!/usr/bin/env bash
# The README's test command: provision what the tests need on a fresh Debian machine
# (run as root) and run every test. Nothing is skipped: a missing piece fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=()
[ -x /usr/bin/python3 ] || apt_packages+=(python3)          # the --python test's interpreter
command -v pgrep >/dev/null || apt_packages+=(procps)       # stray-process checks
command -v dockerd >/dev/null || apt_packages+=(docker.io)  # container mode: a real engine
command -v debootstrap >/dev/null || apt_packages+=(debootstrap)  # test images, no registry
[ -x /bin/busybox ] || apt_packages+=(busybox-static)       # the bring-your-own test image
command -v docker-registry >/dev/null || apt_packages+=(docker-registry)  # image pull tests
command -v mpirun >/dev/null || apt_packages+=(openmpi-bin)   # --distributed mpi, local mode
[ -x /usr/bin/chromium ] || apt_packages+=(chromium)        # JupyterLab tests (Playwright)
if [ ${#apt_packages[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}"
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip 2> >(grep -v "^WARNING: Location" >&2)
.venv/bin/python -m pip install -q -e ".[test]" 2> >(grep -v "^WARNING: Location" >&2)
# torchrun tests: the pinned CPU build (on this workplace's machines pip finds it on disk;
# elsewhere pass PIP_INDEX_URL=https://download.pytorch.org/whl/cpu to avoid CUDA packages).
.venv/bin/python -c "import torch" 2>/dev/null \
  || .venv/bin/python -m pip install -q "torch==2.13.0" 2> >(grep -v "^WARNING: Location" >&2)

# A running Docker Engine and the container-mode test images (tests/images/build.sh).
if ! docker info >/dev/null 2>&1; then
  mkdir -p /var/log/sm-notebook
  (setsid dockerd > /var/log/sm-notebook/dockerd.log 2>&1 &)
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -20 /var/log/sm-notebook/dockerd.log; exit 1; }
fi
PIP=.venv/bin/pip bash tests/images/build.sh

.venv/bin/ruff check sm_notebook tests benchmarks
.venv/bin/python -m pytest "$@"
