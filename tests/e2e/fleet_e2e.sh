#!/usr/bin/env bash
# End-to-end: the real gitdisc binary, real libvirtd, real QEMU guests (TCG)
# running gitdisc-agent, and a real Git repository made from examples/fleet.
#
# Three selected VMs (web ×2, db ×1) and one VM outside every selector:
#   1. diff shows the plan (exit 1); reconcile converges (exit 0); payload
#      effects appear on the guests' consoles; every disc is ejected; the two
#      web VMs share one image; the outsider is never touched.
#   2. A second diff exits 0 and a second reconcile inserts nothing.
#   3. A commit bumping nginx-config re-applies it on the web VMs only; the
#      first reconcile is killed with SIGKILL mid-rollout and a rerun converges
#      with the payload applied exactly once per VM.
#   4. Foreign media in a drive is left alone (DriveBusy) and reported.
#
# Usage: fleet_e2e.sh GITDISC_BINARY GUEST_DIR SOURCE_DIR   (as root)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
e2e_setup "$@"

prefix="gitdisc-test-$$-e2e"
vms=("$prefix-web-1" "$prefix-web-2" "$prefix-db-1")
outsider="gitdisc-test-$$-outsider"
all=("${vms[@]}" "$outsider")

define_vm "$prefix-web-1" web yes
define_vm "$prefix-web-2" web yes
define_vm "$prefix-db-1" db yes
define_vm "$outsider" "" no

# The fleet repo: examples/fleet, with every set narrowed to this test's VMs
# (the baseline's "every VM", the label selectors of web and db) so that
# nothing else on the host is ever selected — not even a VM another run left
# behind with the same labels.
repo="$work/fleet"
cp -r "$src/examples/fleet" "$repo"
sed -i "s|names: \\[\"\\*\"\\]|names: [\"$prefix-*\"]|" "$repo/baseline.yaml"
for set in web db; do
  sed -i "s|^  selector:\$|  selector:\\n    names: [\"$prefix-*\"]|" "$repo/$set.yaml"
done
for set in baseline web db; do grep -q "$prefix-\\*" "$repo/$set.yaml"; done
git -C "$repo" -c init.defaultBranch=main init -q
git -C "$repo" add -A
git -C "$repo" commit -qm "fleet"

state="$work/state"
common=(--repo "$repo" --connect "$uri" --state-dir "$state")

for vm in "${vms[@]}"; do wait_agent "$vm"; done

# 1. Plan, converge, effects.
check "diff before the first reconcile exits 1 (changes pending)" \
  run_gitdisc 1 diff1.log diff "${common[@]}"
check "diff plans an install (or a rollout wait) for each selected VM" \
  test "$(grep -cE "^[+!] $prefix-" "$work/diff1.log")" -eq 3
check "reconcile converges (exit 0)" \
  run_gitdisc 0 reconcile1.log reconcile "${common[@]}" --timeout 15m
check "the state folder is private to root and QEMU's group (mode $(stat -c %a "$state"))" \
  test $((8#$(stat -c %a "$state") & 8#7)) -eq 0
for vm in "$prefix-web-1" "$prefix-web-2"; do
  for p in example-ca motd web-sysctl nginx-config; do
    check "$vm: $p applied once" test "$(console_count "$vm" "gitdisc-payload $p v1 installed")" -eq 1
  done
done
for p in example-ca motd postgres-config db-tuning; do
  check "$prefix-db-1: $p applied once" \
    test "$(console_count "$prefix-db-1" "gitdisc-payload $p v1 installed")" -eq 1
done
check "db VM got no web payload" test "$(console_count "$prefix-db-1" "nginx-config")" -eq 0
for vm in "${all[@]}"; do
  check "$vm: drive empty after reconcile" drive_empty "$vm"
done
check "two bundles built for three VMs (web VMs share one image)" \
  test "$(ls "$state/isos/"*.iso | wc -l)" -eq 2
check "the outsider VM is never touched" \
  bash -c "! grep -qE '$outsider: (insert|apply|eject)' '$work/reconcile1.log' && test \$(grep -ac gitdisc-payload '$work/$outsider.console.log' || true) -eq 0"

# 2. In sync: nothing to do.
check "diff after converging exits 0" run_gitdisc 0 diff2.log diff "${common[@]}"
check "second reconcile exits 0" run_gitdisc 0 reconcile2.log reconcile "${common[@]}" --timeout 5m
check "second reconcile inserts nothing" bash -c "! grep -q ' insert ' '$work/reconcile2.log'"

# 3. Upgrade one payload; kill -9 the first reconcile mid-rollout.
sed -i 's/^VERSION=1$/VERSION=2/' "$repo/payloads/nginx-config/install.sh"
sed -i '/name: nginx-config/{n;s/version: "1"/version: "2"/}' "$repo/web.yaml"
grep -q 'version: "2"' "$repo/web.yaml"
git -C "$repo" commit -qam "nginx-config v2"
check "diff after the bump exits 1" run_gitdisc 1 diff3.log diff "${common[@]}"
check "diff plans an upgrade on the web VMs (canary first) and leaves db in sync" \
  bash -c "test \$(grep -cE '^[\^!] $prefix-web-' '$work/diff3.log') -eq 2 && grep -qE '^= $prefix-db-1 ' '$work/diff3.log'"
"$gitdisc" reconcile "${common[@]}" --timeout 15m > "$work/reconcile3.log" 2>&1 &
pid=$!
for _ in $(seq 1 1200); do
  grep -q ' apply ' "$work/reconcile3.log" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
check "the killed reconcile had started applying" grep -q ' apply ' "$work/reconcile3.log"
check "a rerun after kill -9 converges" \
  run_gitdisc 0 reconcile4.log reconcile "${common[@]}" --timeout 15m
for vm in "$prefix-web-1" "$prefix-web-2"; do
  check "$vm: nginx-config v2 applied exactly once" \
    test "$(console_count "$vm" "gitdisc-payload nginx-config v2 installed")" -eq 1
  check "$vm: web-sysctl not re-applied" \
    test "$(console_count "$vm" "gitdisc-payload web-sysctl v1 installed")" -eq 1
done
check "db VM untouched by the web upgrade" \
  test "$(console_count "$prefix-db-1" "nginx-config")" -eq 0
for vm in "${all[@]}"; do
  check "$vm: drive empty after the upgrade" drive_empty "$vm"
done

# 4. Foreign media: a disc gitdisc did not insert is never ejected.
foreign="$work/foreign.iso"
mkdir -p "$work/foreign" && echo hello > "$work/foreign/readme.txt"
xorriso -as mkisofs -quiet -o "$foreign" "$work/foreign" 2>/dev/null
chmod 0644 "$foreign"
virsh -q -c "$uri" change-media "$prefix-db-1" hdc "$foreign" --insert --live >/dev/null
sed -i 's/^VERSION=1$/VERSION=2/' "$repo/payloads/motd/install.sh"
sed -i '/name: motd/{n;s/version: "1"/version: "2"/}' "$repo/baseline.yaml"
git -C "$repo" commit -qam "motd v2"
check "reconcile with foreign media in one drive does not converge (exit 1)" \
  run_gitdisc 1 reconcile5.log reconcile "${common[@]}" --timeout 3m
check "the VM with foreign media is reported DriveBusy" grep -q DriveBusy "$work/reconcile5.log"
check "the foreign disc is still in its drive" \
  test "$(virsh -q -c "$uri" domblklist "$prefix-db-1" | awk '$1 == "hdc" {print $2}')" = "$foreign"

e2e_finish
