#!/usr/bin/env bash
# Installs dependencies, builds gitdisc once, and runs every test through CTest:
# unit tests, integration tests against real git and libvirtd, and end-to-end
# tests on real QEMU guests, plus the sanitizer unit run and the fuzz smoke
# (scripts/sanitize.sh, scripts/fuzz-smoke.sh). Needs root (packages, libvirtd).
# CTest prints its summary line, followed by a recap of the hardening checks;
# the exit status is non-zero when CTest, the sanitizer run or the fuzz smoke
# failed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
bash scripts/start-libvirtd.sh

# Hostile-input checks (docs/security.md): the unit tests under ASan+UBSan
# with leak detection, and a short run of every fuzz target. They run before
# the main CTest run; their output goes to logs, one line each here. Their
# verdicts (and, on failure, the log tail) are printed again after CTest's
# summary, so that whoever reads only the end of a CI log sees why it failed.
# SKIP_SANITIZE=1 / SKIP_FUZZ=1 leave them out (local runs).
hardening_failed=0
recap=()
run_logged() {  # name log command...
  local name=$1 log=$2 start=$SECONDS line
  shift 2
  if "$@" >"$log" 2>&1; then
    line="$name: ok ($((SECONDS - start))s, log $log)"
    echo "$line"
    recap+=("$line")
  else
    hardening_failed=1
    line="$name: FAILED ($((SECONDS - start))s), last lines of $log:"
    echo "$line"
    tail -n 40 "$log"
    recap+=("$line" "$(tail -n 60 "$log")")
  fi
}
mkdir -p "${BUILD_DIR:-build}"
if [[ ${SKIP_SANITIZE:-0} != 1 ]]; then
  run_logged sanitize "${BUILD_DIR:-build}/sanitize.log" bash scripts/sanitize.sh
fi
if [[ ${SKIP_FUZZ:-0} != 1 ]]; then
  run_logged fuzz-smoke "${BUILD_DIR:-build}/fuzz-smoke.log" bash scripts/fuzz-smoke.sh
  grep '^fuzz-smoke: ' "${BUILD_DIR:-build}/fuzz-smoke.log" || true
fi

cd "${BUILD_DIR:-build}"
ctest_rc=0
ctest --output-on-failure -j"$(nproc)" --timeout 1200 || ctest_rc=$?
if ((${#recap[@]})); then
  echo
  echo "hardening checks (run before CTest):"
  printf '%s\n' "${recap[@]}"
fi
if [[ $hardening_failed != 0 && $ctest_rc == 0 ]]; then ctest_rc=1; fi
exit $ctest_rc
