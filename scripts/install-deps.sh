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

# The torchmetrics parity test runs in .venv at the repository root: Debian's Python with its
# packages (torch 1.13, numpy, pytest) plus the pinned PyPI packages of tests/requirements-parity.txt,
# installed without dependency resolution so that pip never replaces Debian's torch or numpy.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/tests/requirements-parity.txt"
venv="$root/.venv"
[ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$venv"
if ! "$venv/bin/python" - "$requirements" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version
pins = [line.split("#")[0].strip() for line in open(sys.argv[1])]
try:
    sys.exit(any(version(name) != pinned for name, pinned in
                 (pin.split("==") for pin in pins if pin)))
except PackageNotFoundError:
    sys.exit(1)
PY
then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -r "$requirements"
fi
