#!/usr/bin/env bash
# Builds every libFuzzer target with clang into build-fuzz/ (or
# $FUZZ_BUILD_DIR) and runs each for $FUZZ_SECONDS seconds (default 30) on a
# temporary copy of its seed corpus (the committed corpus never grows). Prints
# one line per target; fails when any target finds a crash, a leak, a
# sanitizer report or a broken promise. Crash inputs are kept in
# $FUZZ_ARTIFACTS (default build-fuzz/artifacts/<target>/) and printed in
# base64.
# The long run (hours, several jobs) is described in docs/security.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
seconds=${FUZZ_SECONDS:-30}
jobs=${JOBS:-$(nproc)}
artifacts=${FUZZ_ARTIFACTS:-$root/$build_dir/artifacts}

# name | binary (in the build dir) | seed folders/globs | dictionary
targets=(
  "spec_parser|specs/spec_parser_fuzzer|examples/fleet|specs/spec_parser_fuzzer.dict"
  "protocol|guest/protocol_fuzzer|tests/fuzz/corpus/protocol|"
  "iso_manifest|tests/fuzz/iso_manifest_fuzzer|tests/fuzz/corpus/iso_manifest|"
  "iso_reader|tests/fuzz/iso_reader_fuzzer|tests/fuzz/corpus/iso_reader|"
  "webhook|tests/fuzz/webhook_fuzzer|tests/fuzz/corpus/webhook|"
  "serve_config|tests/fuzz/serve_config_fuzzer|tests/fuzz/corpus/serve_config|"
  "agent_channel|tests/fuzz/agent_channel_fuzzer|tests/fuzz/corpus/agent_channel|"
)

source scripts/ccache.sh
CC=${FUZZ_CC:-clang} CXX=${FUZZ_CXX:-clang++} cmake -S . -B "$build_dir" "${ccache_args[@]}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGITDISC_FUZZ=ON -DGITDISC_BUILD_TESTS=OFF >/dev/null
build_targets=()
for t in "${targets[@]}"; do
  IFS='|' read -r _ bin _ _ <<<"$t"
  build_targets+=("$(basename "$bin")")
done
cmake --build "$build_dir" -j"$jobs" --target "${build_targets[@]}" >"$build_dir/fuzz-build.log" 2>&1 ||
  { tail -n 40 "$build_dir/fuzz-build.log"; echo "fuzz-smoke: build failed"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

# LeakSanitizer needs ptrace, which some sandboxes forbid (see sanitize.sh);
# then libFuzzer's leak check dies on the first input. Probe once and turn
# leak detection off loudly rather than report failures that are not ours.
leak_args=()
IFS='|' read -r _ probe_bin _ _ <<<"${targets[0]}"
: >"$work/empty"
probe=$("$root/$build_dir/$probe_bin" -runs=1 "$work/empty" 2>&1 || true)
if grep -qE 'LeakSanitizer (has encountered a fatal error|does not work under ptrace)' <<<"$probe"; then
  echo "fuzz-smoke: WARNING: LeakSanitizer cannot run on this machine; leak detection OFF"
  leak_args=(-detect_leaks=0)
  export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0  # LSan's exit-time check
fi
for t in "${targets[@]}"; do
  IFS='|' read -r name bin seeds dict <<<"$t"
  corpus=$work/$name
  mkdir -p "$corpus" "$artifacts/$name"
  if [[ -d $seeds ]]; then
    find "$seeds" -type f \
      -exec cp --backup=numbered -t "$corpus" {} + 2>/dev/null || true
  fi
  # -timeout: a hang is a finding, a slow input on a loaded 2-core CI machine
  # is not; 25 s per input tells the two apart.
  args=(-max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -max_len=131072
        -print_final_stats=1 -artifact_prefix="$artifacts/$name/" "${leak_args[@]}")
  [[ -n $dict ]] && args+=(-dict="$root/$dict")
  log=$work/$name.log
  if (cd "$work" && "$root/$build_dir/$bin" "${args[@]}" "$corpus" >"$log" 2>&1); then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2)
    echo "fuzz-smoke: $name ok (${seconds}s, ${runs:-?} runs, cov ${cov:-?})"
  else
    failed=1
    echo "fuzz-smoke: $name FAILED (input in $artifacts/$name/):"
    grep -E 'ERROR|SUMMARY|runtime error|==[0-9]+==' "$log" | head -n 20 || tail -n 30 "$log"
    # The artifacts folder does not outlive a CI machine: print each input
    # (first 4 KiB, base64) so it can be turned into a regression test from
    # the CI log alone (base64 -d > tests/fuzz/regressions/<target>/NAME).
    for a in "$artifacts/$name"/*; do
      [[ -f $a ]] || continue
      echo "fuzz-smoke: $name input $(basename "$a") ($(stat -c %s "$a") bytes), base64:"
      head -c 4096 "$a" | base64 -w 100
    done
  fi
done
exit $failed
