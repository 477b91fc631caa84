#!/usr/bin/env bash
# The quickstart's main job, on a fresh Debian 12 machine as root:
#   install dependencies, build gitdisc and its tiny test guest, boot three VMs
#   (two labelled role=web, one role=db), make a Git repository of
#   examples/fleet, then `gitdisc validate`, `diff`, `reconcile` and `status`.
# Clean up with:  bash scripts/demo.sh --cleanup
#
# The VMs have no network device: every payload reaches them on a read-only
# disc hot-inserted into their CD-ROM drive.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
demo=${GITDISC_DEMO_DIR:-/var/lib/gitdisc-demo}
uri=qemu:///system
vms=(gitdisc-demo-web-1 gitdisc-demo-web-2 gitdisc-demo-db-1)

cleanup() {
  for vm in "${vms[@]}"; do
    virsh -q -c "$uri" destroy "$vm" >/dev/null 2>&1 || true
    virsh -q -c "$uri" undefine "$vm" >/dev/null 2>&1 || true
  done
  rm -rf "$demo"
  echo "demo: removed the demo VMs and $demo"
}
if [ "${1:-}" = "--cleanup" ]; then
  cleanup
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "demo.sh: run as root (it installs packages and starts VMs)" >&2
  exit 2
fi

bash scripts/install-deps.sh
bash scripts/build.sh
bash scripts/start-libvirtd.sh
build_dir=${BUILD_DIR:-build}
gitdisc="$top/$build_dir/bin/gitdisc"

# Start from a clean slate if a previous demo is still around.
cleanup >/dev/null
# examples/fleet's baseline set selects every VM (names: ["*"]), as a real
# fleet-wide baseline would: refuse to run next to VMs that are not the demo's.
others=$(virsh -q -c "$uri" list --all --name | grep -v '^gitdisc-demo-' | grep -v '^$' || true)
if [ -n "$others" ] && [ "${GITDISC_DEMO_ANY_HOST:-}" != 1 ]; then
  echo "demo.sh: this host has other VMs, which the example baseline would select:" >&2
  echo "$others" | sed 's/^/  /' >&2
  echo "demo.sh: run it on a host of its own, or set GITDISC_DEMO_ANY_HOST=1" >&2
  exit 2
fi
mkdir -p "$demo"
chmod 0755 "$demo"
install -m 0644 "$build_dir/guest/vmlinuz" "$demo/vmlinuz"
install -m 0644 "$build_dir/guest/initrd.img" "$demo/initrd.img"

# shellcheck source=guest-domain.sh
source scripts/guest-domain.sh
define_vm() {  # name role
  local name=$1 role=$2
  guest_domain_xml "$name" "$demo" "role=$role env=demo" yes > "$demo/$name.xml"
  virsh -q -c "$uri" define "$demo/$name.xml" >/dev/null
  virsh -q -c "$uri" start "$name" >/dev/null
  echo "demo: started $name (role=$role), console in $demo/$name.console.log"
}
define_vm gitdisc-demo-web-1 web
define_vm gitdisc-demo-web-2 web
define_vm gitdisc-demo-db-1 db

# Wait until each guest's agent listens on its channel (about 7 s under TCG;
# longer on a busy machine). reconcile would wait too (AgentUnavailable, then
# retry), but the dry-run diff below is more telling with agents that answer.
echo "demo: waiting for the guests' agents to start"
for vm in "${vms[@]}"; do
  for _ in $(seq 1 240); do
    grep -aq "gitdisc-agent: listening" "$demo/$vm.console.log" 2>/dev/null && break
    sleep 0.5
  done
done

# The fleet repository: examples/fleet as its own Git history.
repo="$demo/fleet"
cp -r examples/fleet "$repo"
git -C "$repo" -c init.defaultBranch=main init -q
git -C "$repo" add -A
git -C "$repo" -c user.name=demo -c user.email=demo@gitdisc.invalid commit -qm "Fleet baseline"

run() {
  echo
  echo "+ gitdisc $*"
  "$gitdisc" "$@"
}
common=(--repo "$repo" --connect "$uri" --state-dir "$demo/state")
run validate --repo "$repo"
set +e
run diff "${common[@]}"
run reconcile "${common[@]}" --timeout 10m
rc=$?
run status "${common[@]}"
set -e
echo
echo "demo: payload lines the guests wrote on their consoles:"
grep -h "gitdisc-payload" "$demo"/*.console.log | sort | uniq -c || true
echo
echo "demo: done (reconcile exit $rc). Clean up with: bash scripts/demo.sh --cleanup"
exit $rc
