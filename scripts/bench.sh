#!/usr/bin/env bash
# Builds the benchmark programs (bench/*/) and runs them, then prints the
# whole table of docs/benchmarks.md: every row with gitdisc's figure, the
# alternative measured in the same run, the goal and whether it was met.
#
#   bash scripts/bench.sh [--quick] [--rows 1,2,3,4,5,6,7,8,9] [--build-dir DIR]
#
#   --quick      fewer runs per row (a smoke run: the figures are noisier)
#   --rows       only these rows (default: all). Rows 3 (its real-guest
#                part), 4, 5 and 7 boot QEMU guests: root, libvirtd
#                (scripts/start-libvirtd.sh is run), qemu-guest-agent.
#   --build-dir  CMake build folder (default: build); configured when missing.
#
# Each program's full output goes to BUILD_DIR/bench-logs/<program>.log; the
# programs print "ROW n | …" lines, collected here. Exit status: 0 when every
# program ran (met or missed), 1 when one failed.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=build
rows=1,2,3,4,5,6,7,8,9
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --rows) rows=$2; shift ;;
    --build-dir) build=$2; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
case "$build" in /*) ;; *) build="$root/$build" ;; esac
want() { case ",$rows," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
source "$root/scripts/ccache.sh"
launcher=("${ccache_args[@]}")
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null ||
    { echo "bench.sh: cmake configure failed" >&2; exit 1; }
fi
targets=()
want 1 && targets+=(iso_build_bench)
want 2 && targets+=(bundle_unchanged_bench)
want 3 && targets+=(shared_image_bench)
want 6 && targets+=(planner_scale_bench)
want 8 && targets+=(hostile_guests_bench)
(want 3 || want 4 || want 7) && targets+=(guest_bench)
want 5 && targets+=(webhook_bench)
want 9 && targets+=(healthz_abuse_bench)
echo "bench.sh: building ${targets[*]}" >&2
if ! cmake --build "$build" -j2 --target "${targets[@]}" >"$build/bench-build.log" 2>&1; then
  tail -30 "$build/bench-build.log" >&2
  echo "bench.sh: build failed (log: $build/bench-build.log)" >&2
  exit 1
fi

logs="$build/bench-logs"
mkdir -p "$logs"
rm -f "$logs"/*.log  # the table shows this run only
failed=0
run() {  # run NAME PROGRAM ARGS...: output to the log and to stderr as it comes
  local name=$1; shift
  echo "bench.sh: running $name $*" >&2
  "$@" 2>&1 | tee "$logs/$name.log" | grep --line-buffered -v '^libvirt:' >&2
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ]; then
    echo "bench.sh: $name FAILED with exit $rc (log: $logs/$name.log)" >&2
    failed=1
  fi
}
if [ $quick = 1 ]; then r1=5 r2=3 r47=1 p5=10 c5=3 r6=3 r8=3 i9=100 a9=10; else r1=9 r2=9 r47=3 p5=50 c5=10 r6=5 r8=7 i9=300 a9=30; fi
(want 3 || want 4 || want 5 || want 7) && bash "$root/scripts/start-libvirtd.sh" >/dev/null 2>&1
want 1 && run iso_build_bench "$build/bench/iso/iso_build_bench" $r1
want 2 && run bundle_unchanged_bench "$build/bench/cache/bundle_unchanged_bench" $r2
want 3 && run shared_image_bench "$build/bench/shared_image/shared_image_bench" 1 4 16
want 6 && run planner_scale_bench "$build/bench/planner/planner_scale_bench" 10000 200 $r6
want 8 && run hostile_guests_bench "$build/bench/hostile/hostile_guests_bench" $r8 8
guest_rows=""
for r in 3 4 7; do want $r && guest_rows="$guest_rows$r"; done
[ -n "$guest_rows" ] && run guest_bench "$build/bench/guest/guest_bench" $r47 "" "$guest_rows"
want 5 && run webhook_bench "$build/bench/serve/webhook_bench" $p5 $c5
want 9 && run healthz_abuse_bench "$build/bench/serve/healthz_abuse_bench" $i9 $a9

echo
echo "## gitdisc benchmarks — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| row | what | gitdisc | alternative (same run) | goal | verdict |"
echo "|---|---|---|---|---|---|"
cat "$logs"/*.log 2>/dev/null | grep '^ROW ' | sort -t' ' -k2,2n -s |
  awk -F' [|] ' '{
    sub(/^ROW /, "", $1); sub(/^gitdisc: /, "", $3); sub(/^alternative: /, "", $4); sub(/^goal: /, "", $5)
    printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6
  }'
exit $failed
