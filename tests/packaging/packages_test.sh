#!/usr/bin/env bash
# What gitdisc ships, checked without a container engine: the two CPack DEB
# packages (contents, dependencies, the agent static) and the Dockerfile's
# runtime stage (every shared library the controller binary needs directly
# comes from a package that stage installs, or from the base image).
#
# Usage: packages_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=${1:?build dir}
src=${2:?source dir}
out=$(mktemp -d /tmp/gitdisc-pkg-XXXXXX)
trap 'rm -rf "$out"' EXIT
checks=0
failures=0
check() {
  local what=$1
  shift
  checks=$((checks + 1))
  if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; failures=$((failures + 1)); fi
}

(cd "$build" && cpack -G DEB -B "$out" >"$out/cpack.log" 2>&1) ||
  { cat "$out/cpack.log"; echo "cpack failed"; exit 1; }
controller=$(ls "$out"/gitdisc_*_amd64.deb)
agent=$(ls "$out"/gitdisc-agent_*_amd64.deb)
dpkg-deb -c "$controller" | awk '{print $6}' > "$out/controller.list"
dpkg-deb -c "$agent" | awk '{print $6}' > "$out/agent.list"

for f in ./usr/bin/gitdisc ./usr/lib/systemd/system/gitdisc.service ./etc/gitdisc/config.yaml \
         ./usr/share/doc/gitdisc/daemon.md; do
  check "controller package has $f" grep -qx "$f" "$out/controller.list"
done
check "config.yaml is a conffile" bash -c "dpkg-deb -e '$controller' '$out/ctl' && grep -qx /etc/gitdisc/config.yaml '$out/ctl/conffiles'"
depends=$(dpkg-deb -f "$controller" Depends)
for p in libvirt0 libgit2-1.5 libisofs6 libyaml-cpp0.7 libssl3 adduser git; do
  check "controller Depends names $p" grep -q "\\b$p\\b" <<<"$depends"
done
check "controller Recommends libvirt-daemon-system (whose group postinst joins)" \
  bash -c "dpkg-deb -f '$controller' Recommends | grep -q libvirt-daemon-system"
# A unit that demands a group the host may not have does not start at all.
check "gitdisc.service does not demand the libvirt group" \
  bash -c "! grep -q '^SupplementaryGroups=' '$src/packaging/gitdisc.service'"
for f in ./usr/sbin/gitdisc-agent ./usr/lib/systemd/system/gitdisc-agent.service \
         ./usr/lib/udev/rules.d/70-gitdisc-agent.rules; do
  check "agent package has $f" grep -qx "$f" "$out/agent.list"
done
# A unit's Documentation=file:// must name a file its own package installs.
for pair in "controller:$src/packaging/gitdisc.service" "agent:$src/guest/gitdisc-agent.service"; do
  list=$out/${pair%%:*}.list
  for doc in $(sed -n 's|^Documentation=||p' "${pair#*:}" | tr ' ' '\n' | sed -n 's|^file://||p'); do
    check "$(basename "${pair#*:}") Documentation $doc is in the ${pair%%:*} package" \
      grep -qx ".$doc" "$list"
  done
done
dpkg-deb -x "$agent" "$out/agent-root"
check "the packaged agent is statically linked (no NEEDED entries)" \
  bash -c "! objdump -p '$out/agent-root/usr/sbin/gitdisc-agent' | grep -q NEEDED"

# The Dockerfile's runtime stage: the packages on its apt-get line.
runtime=$(sed -n '/^FROM debian:bookworm-slim/,$p' "$src/Dockerfile" |
  sed -n '/apt-get install/,/rm -rf/p' | tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' || true)
base="libc6 libstdc++6 libgcc-s1"   # in debian:bookworm-slim
for lib in $(objdump -p "$build/bin/gitdisc" | awk '/NEEDED/ {print $2}'); do
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ {print $NF}' | tail -n1)
  # dpkg knows a file by the path its package shipped (merged /usr: either).
  pkg=""
  for p in "$path" "$(readlink -f "$path")" "${path/#\/lib\//\/usr\/lib\/}" \
           "$(readlink -f "$path" | sed 's|^/usr/lib/|/lib/|')"; do
    pkg=$(dpkg -S "$p" 2>/dev/null | tail -n1 | cut -d: -f1 || true)
    [ -n "$pkg" ] && break
  done
  check "Dockerfile runtime stage provides $lib (${pkg:-no package found})" \
    bash -c '[ -n "$1" ] && grep -qw -- "$1" <<<"$2"' _ "$pkg" "$runtime $base"
done

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
