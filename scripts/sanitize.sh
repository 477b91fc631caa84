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

source scripts/ccache.sh
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} "${ccache_args[@]}" \
  -DGITDISC_SANITIZE=ON -DGITDISC_BUILD_TESTS=ON >/dev/null

# Every test binary whose cases carry the "unit" label: the CMake target
# `unit_tests` depends on each of them (gitdisc_unit_test_target in
# cmake/GitdiscSettings.cmake: every library folder's tests, tests/support's,
# and the fuzz corpus/regression replays in tests/fuzz).
cmake --build "$build_dir" -j"$jobs" --target unit_tests

# LeakSanitizer stops the world with ptrace; some sandboxes and containers
# forbid that (no CAP_SYS_PTRACE, Yama scope 3, seccomp), and then every test
# would die with LSan's own fatal error rather than a finding. Probe once with
# a real test binary: if LSan itself cannot run here, say so loudly and go on
# with ASan+UBSan only, rather than report 345 failures that are not ours.
detect_leaks=${DETECT_LEAKS:-1}
if [[ $detect_leaks == 1 ]]; then
  probe=$(ASAN_OPTIONS=detect_leaks=1 "$build_dir/base/gitdisc_base_test" \
            --gtest_filter='Status*' 2>&1 >/dev/null || true)
  if grep -qE 'LeakSanitizer (has encountered a fatal error|does not work under ptrace)' <<<"$probe"; then
    echo "sanitize: WARNING: LeakSanitizer cannot run on this machine; leak detection OFF:" >&2
    grep -E 'LeakSanitizer|Tracer|ptrace' <<<"$probe" | head -n 5 >&2
    detect_leaks=0
  fi
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=$detect_leaks:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
cd "$build_dir"
ctest -L unit --output-on-failure -j"$jobs" --timeout 900
