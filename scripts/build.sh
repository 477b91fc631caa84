#!/usr/bin/env bash
# Configures and builds gitdisc into build/ (or $BUILD_DIR). Extra arguments go
# to cmake's configure step, e.g. -DGITDISC_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
source scripts/ccache.sh
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} "${ccache_args[@]}" "$@" \
  >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
