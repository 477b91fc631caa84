#!/usr/bin/env bash
# End-to-end rollout rules on real QEMU guests, with the real gitdisc binary:
#
#   1. `gitdisc label` puts a VM into a set (libvirt metadata, read back).
#   2. A failing payload marks its VM Failed and halts the set
#      (maxFailures: 0): the other VM is not attempted, a rerun attempts
#      nothing, and every drive is empty.
#   3. A new commit fixing the payload resumes the rollout, this time over a
#      remote connection (qemu+tcp through a loopback proxy to the local
#      libvirtd): the bundle goes into the `gitdisc` storage pool as one
#      volume, both VMs apply it once, both discs are ejected.
#   4. `gitdisc label VM key-` takes a VM out of the set: the next commit
#      reaches only the VM still selected.
#   5. `gitdisc cache ls|gc` over qemu+tcp: the pool image of a bundle no
#      longer desired is kept through its grace period, then deleted with
#      its marker; the desired one stays.
#
# Usage: rollout_e2e.sh GITDISC_BINARY GUEST_DIR SOURCE_DIR   (as root)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
e2e_setup "$@"

a1="gitdisc-test-$$-app-1"
a2="gitdisc-test-$$-app-2"
define_vm "$a1" app yes
define_vm "$a2" "" yes

# A loopback TCP endpoint for the local libvirtd, so that qemu+tcp exercises
# gitdisc's remote delivery path (pool upload) without reconfiguring libvirtd.
port=$(( 20000 + $$ % 20000 ))
socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" \
  UNIX-CONNECT:/var/run/libvirt/libvirt-sock >"$work/socat.log" 2>&1 &
socat_pid=$!
e2e_extra_cleanup() { kill "$socat_pid" 2>/dev/null || true; }
tcp_uri="qemu+tcp://127.0.0.1:$port/system"

repo="$work/repo"
tool_repo "$repo" "{maxParallel: 1, maxFailures: 0}"
write_payload() {  # version exit-code
  tool_version "$1" "echo \"gitdisc-payload tool v$1 exit $2\" > /dev/console; exit $2"
}
write_payload 1 1
git -C "$repo" add -A
git -C "$repo" commit -qm "tool v1 (fails)"

state="$work/state"
local_args=(--repo "$repo" --connect "$uri" --state-dir "$state")
tcp_args=(--repo "$repo" --connect "$tcp_uri" --state-dir "$state")
status_json() {  # log-name → `gitdisc status -o json` into $work/log-name
  "$gitdisc" status "${local_args[@]}" -o json > "$work/$1" 2>"$work/$1.err" || true
}
vm_condition() {  # json vm → its condition
  jq -r --arg n "$2" '.vms[] | select(.name == $n) | .condition' "$work/$1"
}

wait_agent "$a1"
wait_agent "$a2"

# 1. Labels.
check "label adds role=app to the unlabelled VM" \
  run_gitdisc 0 label1.log label "$a2" role=app --connect "$uri"
check "label prints the VM's labels" grep -q "^$a2: role=app$" "$work/label1.log"
check "the label is in the domain's libvirt metadata" \
  bash -c "virsh -q -c '$uri' metadata '$a2' urn:gitdisc:labels:1 | grep -q \"key=.role. value=.app.\""
check "label of an unknown VM exits 2" \
  run_gitdisc 2 label2.log label "gitdisc-test-$$-nosuch" role=app --connect "$uri"
check "diff now plans both VMs (exit 1)" run_gitdisc 1 diff1.log diff "${local_args[@]}"
check "both VMs are in the plan" \
  bash -c "grep -qE '^[+!] $a1 ' '$work/diff1.log' && grep -qE '^[+!] $a2 ' '$work/diff1.log'"

# 2. A failing payload halts the set.
check "reconcile with a failing payload exits 1" \
  run_gitdisc 1 reconcile1.log reconcile "${local_args[@]}" --timeout 5m
runs=$(( $(console_count "$a1" "tool v1 exit 1") + $(console_count "$a2" "tool v1 exit 1") ))
check "the payload ran on exactly one VM before the set halted (ran $runs times)" test "$runs" -eq 1
status_json status1.json
check "the set is Halted" \
  test "$(jq -r '.sets[] | select(.name == "app") | .rollout' "$work/status1.json")" = Halted
check "one VM is Failed" \
  test "$(jq '[.vms[] | select(.condition == "Failed")] | length' "$work/status1.json")" -eq 1
check "a rerun while halted still exits 1" \
  run_gitdisc 1 reconcile2.log reconcile "${local_args[@]}" --timeout 2m
check "a rerun while halted inserts nothing" bash -c "! grep -q ' insert ' '$work/reconcile2.log'"
for vm in "$a1" "$a2"; do check "$vm: drive empty after the failure" drive_empty "$vm"; done

# 3. The fix, delivered over qemu+tcp through the storage pool.
write_payload 2 0
git -C "$repo" commit -qam "tool v2 (fixed)"
vols_before=$(virsh -q -c "$uri" vol-list gitdisc 2>/dev/null | awk '{print $1}' | sort || true)
check "reconcile over qemu+tcp converges after the fix" \
  run_gitdisc 0 reconcile3.log reconcile "${tcp_args[@]}" --timeout 8m
vols_after=$(virsh -q -c "$uri" vol-list gitdisc 2>/dev/null | awk '{print $1}' | sort || true)
new_vols=$(comm -13 <(echo "$vols_before") <(echo "$vols_after") | grep . || true)
for v in $new_vols; do e2e_volumes+=("gitdisc $v"); done
check "one new image volume (+ its upload marker) in the gitdisc pool: $(echo $new_vols)" \
  test "$(grep -c '\.iso$' <<<"$new_vols")" -eq 1 -a "$(grep -c '\.iso\.ok$' <<<"$new_vols")" -eq 1
for vm in "$a1" "$a2"; do
  check "$vm: tool v2 applied exactly once" test "$(console_count "$vm" "tool v2 exit 0")" -eq 1
  check "$vm: drive empty after the remote delivery" drive_empty "$vm"
done
status_json status2.json
check "the set is no longer Halted" \
  test "$(jq -r '.sets[] | select(.name == "app") | .rollout' "$work/status2.json")" != Halted
check "both VMs are Ready" test "$(vm_condition status2.json "$a1")/$(vm_condition status2.json "$a2")" = Ready/Ready

# 4. Removing the label takes the VM out of the set.
check "label role- removes the label" \
  run_gitdisc 0 label3.log label "$a2" role- --connect "$uri"
write_payload 3 0
git -C "$repo" commit -qam "tool v3"
check "diff after the unlabel exits 1" run_gitdisc 1 diff2.log diff "${local_args[@]}"
check "the unlabelled VM is not planned" bash -c "! grep -qE '^[+^!] $a2 ' '$work/diff2.log'"
check "reconcile converges" run_gitdisc 0 reconcile4.log reconcile "${local_args[@]}" --timeout 5m
check "$a1: tool v3 applied once" test "$(console_count "$a1" "tool v3 exit 0")" -eq 1
check "$a2: tool v3 never ran there" test "$(console_count "$a2" "tool v3")" -eq 0

# 5. Pool images no desired bundle uses are collected over qemu+tcp, after
#    their grace period; the desired one stays.
write_payload 4 0
git -C "$repo" commit -qam "tool v4"
check "reconcile of v4 over qemu+tcp converges" \
  run_gitdisc 0 reconcile5.log reconcile "${tcp_args[@]}" --timeout 5m
pool_isos() { virsh -q -c "$uri" vol-list gitdisc 2>/dev/null | awk '{print $1}' | sort; }
v2_vol=$(grep '\.iso$' <<<"$new_vols" | head -n1)
v4_vol=$(comm -13 <(echo "$vols_after") <(pool_isos) | grep '\.iso$' | head -n1 || true)
for v in $(comm -13 <(echo "$vols_after") <(pool_isos)); do e2e_volumes+=("gitdisc $v"); done
check "v4 went into the pool as a new volume ($v4_vol)" test -n "$v4_vol"
check "cache ls lists the pool images of the tcp host" \
  run_gitdisc 0 cache-ls.log cache ls --connect "$tcp_uri" --state-dir "$state"
check "cache ls shows the v2 image" grep -q "pool $tcp_uri: ${v2_vol:0:12}" "$work/cache-ls.log"
check "cache gc within the grace period deletes nothing" \
  run_gitdisc 0 gc1.log cache gc "${tcp_args[@]}" --pool-grace 1h
check "the v2 image is kept for its grace period" grep -qx "$v2_vol" <(pool_isos)
check "gc recorded since when v2 is unused" \
  jq -e --arg k "$tcp_uri ${v2_vol%.iso}" '.unused[$k] > 0' "$state/pool-unused.json" >/dev/null
# An hour passes for v2 only: its record is moved back. (Other volumes in the
# shared pool were first seen unused just now and keep their hour, so a
# parallel run on this machine is never touched.)
jq --arg k "$tcp_uri ${v2_vol%.iso}" '.unused[$k] -= 7200' "$state/pool-unused.json" \
  > "$work/pool-unused.json" && cp "$work/pool-unused.json" "$state/pool-unused.json"
check "cache gc --dry-run says it would delete v2" \
  run_gitdisc 0 gc2.log cache gc "${tcp_args[@]}" --pool-grace 1h --dry-run
check "the dry run names v2 and deletes nothing" \
  bash -c "grep -q '${v2_vol:0:12} unused since .*would delete' '$work/gc2.log' && grep -qx '$v2_vol' <(virsh -q -c '$uri' vol-list gitdisc | awk '{print \$1}')"
check "cache gc after the grace period" \
  run_gitdisc 0 gc3.log cache gc "${tcp_args[@]}" --pool-grace 1h
check "the unused v2 image and its marker are gone" \
  bash -c "! grep -q '^$v2_vol' <(virsh -q -c '$uri' vol-list gitdisc | awk '{print \$1}')"
check "the desired v4 image stays" grep -qx "$v4_vol" <(pool_isos)

e2e_finish
