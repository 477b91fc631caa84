#!/usr/bin/env bash
# Builds the unit tests with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DGITDISC_SANITIZE=ON) into build-asan/ (or $ASAN_BUILD_DIR) and runs
# `ctest -L unit` there with leak detection on and UBSan fatal. Only the unit
# test binaries are built (not the whole tree), to keep CI time down.
#
# LeakSanitizer does not work under ptrace (gdb, strace, some sandboxes): it
# then aborts with "LeakSanitizer does not work under ptrace". Run this
# outside a debugger; CI is fine. DETECT_LEAKS=0 turns leak checking off.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${ASAN_BUILD_DIR:-build-asan}
jobs=${JOBS:-$(nproc)}

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
  -DGITDISC_SANITIZE=ON -DGITDISC_BUILD_TESTS=ON >/dev/null

# Every test binary whose cases carry the "unit" label (gitdisc_add_tests in
# each library folder, plus the fuzz corpus/regression replays in tests/fuzz).
targets=()
for dir in base specs iso guest providers reconciler; do
  if ls "$dir"/*_test.cc >/dev/null 2>&1; then targets+=("gitdisc_${dir}_test"); fi
done
for f in tests/fuzz/*_fuzzer.cc; do
  [[ -e $f ]] && targets+=("$(basename "${f%.cc}")_replay")
done
cmake --build "$build_dir" -j"$jobs" --target "${targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=${DETECT_LEAKS:-1}:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
cd "$build_dir"
ctest -L unit --output-on-failure -j"$jobs" --timeout 900
