#!/usr/bin/env bash
# Installs everything mlr needs to build, test and benchmark on Debian 12 (run as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  build-essential cmake ninja-build git ca-certificates
  libeigen3-dev xtensor-dev libboost-dev catch2 libbenchmark-dev libdlpack-dev
  pybind11-dev python3-dev python3-numpy python3-sklearn python3-pytest python3-venv
  python3-torch libtorch-dev
  clang-14 libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
