#!/usr/bin/env bash
# Installs dependencies, builds gitdisc once, and runs every test through CTest:
# unit tests, integration tests against real git and libvirtd, and end-to-end
# tests on real QEMU guests. Needs root (packages, libvirtd). CTest prints the
# summary line; the exit status is CTest's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
bash scripts/start-libvirtd.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j"$(nproc)" --timeout 1200
