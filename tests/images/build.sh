#!/usr/bin/env bash
# Build the container-mode test images without any registry (none is reachable here):
#   smnb-test/sklearn:1  plain image: Debian's python3, numpy, pandas, scikit-learn, pip
#   smnb-test/toolkit:2  the same plus AWS's sagemaker-training toolkit (`train` on PATH)
#   smnb-test/torch:1    the same plus a CPU PyTorch with a working torchrun
#   smnb-test/byo:2      busybox and a `train` of its own: a bring-your-own image, tiny
#   smnb-test/serving:1  the plain image plus a `serve` of its own (a serving stack)
#   smnb-test/xgboost:1  the plain image plus XGBoost's CPU wheel
#   smnb-test/mpi:1      Debian's python3, Open MPI and mpi4py (--distributed mpi)
# The base comes from debootstrap; Python wheels are fetched on the host from PyPI (or
# pip's configured find-links) and installed inside with --no-index. An image that already
# exists is kept, so a second run takes seconds. Needs root, debootstrap, busybox-static
# and a running dockerd.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pip=${PIP:-"$here/../../.venv/bin/pip"}
work=$(mktemp -d /tmp/smnb-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

have() { docker image inspect "$1" >/dev/null 2>&1; }

bootstrap() {  # IMAGE PACKAGES: a Debian base of these packages, imported as IMAGE
  local image=$1 packages=$2 root="$work/rootfs-${1//[\/:]/-}"
  have "$image" && return 0
  debootstrap --variant=minbase --include="$packages" bookworm "$root" \
    > "$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; exit 1; }
  rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'WORKDIR /opt/ml/code' \
    - "$image" > /dev/null
  rm -rf "$root"
}

bootstrap smnb-test/sklearn:1 \
  python3,python3-numpy,python3-pandas,python3-sklearn,python3-pip,ca-certificates
bootstrap smnb-test/mpi:1 python3,openmpi-bin,python3-mpi4py

build_with_wheels() {  # IMAGE DOCKERFILE PIP-WHEEL-ARGS...
  local image=$1 dockerfile=$2; shift 2
  have "$image" && return 0
  local ctx="$work/$(basename "$dockerfile" .Dockerfile)"
  mkdir -p "$ctx/wheels"
  "$pip" wheel -q -w "$ctx/wheels" "$@" 2> >(grep -v "^WARNING: Location" >&2)
  docker build -q -t "$image" -f "$here/$dockerfile" "$ctx" > /dev/null
}

if ! have smnb-test/byo:2; then
  mkdir -p "$work/byo"
  cp /bin/busybox "$work/byo/busybox"
  install -m 0755 "$here/byo-train" "$work/byo/train"
  docker build -q -t smnb-test/byo:2 -f "$here/byo.Dockerfile" "$work/byo" > /dev/null
fi

if ! have smnb-test/serving:1; then
  mkdir -p "$work/serving"
  install -m 0755 "$here/serve" "$work/serving/serve"
  docker build -q -t smnb-test/serving:1 -f "$here/serving.Dockerfile" "$work/serving" > /dev/null
fi

build_with_wheels smnb-test/toolkit:2 toolkit.Dockerfile sagemaker-training==5.1.4
build_with_wheels smnb-test/xgboost:1 xgboost.Dockerfile --no-deps xgboost-cpu==3.2.0
build_with_wheels smnb-test/torch:1 torch.Dockerfile torch==2.13.0
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^smnb-test/'
