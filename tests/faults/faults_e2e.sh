#!/usr/bin/env bash
# Fault suite on real QEMU guests (docs/security.md, "Faults"): the real
# gitdisc binary, real libvirtd, guests running gitdisc-agent. Bounded: the
# VMs boot once and serve every trial.
#
#   A. kill -9 of `gitdisc reconcile` at seeded random moments of a rollout,
#      TRIALS times (default 10; seed printed, FAULT_SEED to replay): after a
#      rerun every VM applied the new payload exactly once (console evidence
#      and the agent ledger via status), no disc is left in any drive and no
#      image pin is left in the cache.
#   B. One fault at a time, each reported with a clear condition or error and
#      converging once the fault is gone: a VM without the agent channel; the
#      ISO cache on a full disk; the Git remote gone; the agent killed
#      mid-apply; libvirtd restarted mid-rollout; the VM destroyed mid-apply.
#
# Usage: faults_e2e.sh GITDISC_BINARY GUEST_DIR SOURCE_DIR   (as root)
set -euo pipefail
# shellcheck source=../e2e/lib.sh
source "$(dirname "$0")/../e2e/lib.sh"
e2e_setup "$@"

trials=${TRIALS:-10}
seed=${FAULT_SEED:-$(( $(date +%s) % 100000 ))}
echo "fault seed $seed (FAULT_SEED=$seed replays the kill points)"
RANDOM=$seed

# The small disk for the "cache disk full" fault: mounted before any VM
# starts, because QEMU keeps the mount namespace it started in.
small="$work/small-state"
mkdir -p "$small"
e2e_extra_cleanup() { umount "$small" 2>/dev/null || true; }
mount -t tmpfs -o size=5m gitdisc-fault-tmpfs "$small"

f1="gitdisc-test-$$-f-1"
f2="gitdisc-test-$$-f-2"
nochan="gitdisc-test-$$-f-nochan"
define_vm "$f1" app yes
define_vm "$f2" app yes
define_vm "$nochan" "" no

# The fleet: one set, both VMs at once; a payload that takes a moment so that
# kills land before, during and after applies. A bare "remote" that gitdisc
# mirrors (file://), so the remote can go away.
remote="$work/remote.git"
repo="$work/repo"
tool_repo "$repo" "{maxParallel: 2, maxFailures: 5}"
version=0
# bump [extra shell]: next payload version; the payload sleeps 1 s, runs the
# extra shell, then prints its line on the console.
bump() {
  version=$((version + 1))
  tool_version "$version" "sleep 1
${1:-}
echo \"gitdisc-payload tool v$version done\" > /dev/console"
  git -C "$repo" add -A
  git -C "$repo" commit -qm "tool v$version"
  git -C "$repo" push -q "$remote" HEAD:main
}
git init -q --bare -b main "$remote"
bump

state="$work/state"
args=(--repo "file://$remote" --connect "$uri" --state-dir "$state")
pins_left() { find "$state/isos/pins" -type f 2>/dev/null | wc -l; }
applied_once() {  # vm version
  test "$(console_count "$1" "gitdisc-payload tool v$2 done")" -eq 1
}
ledger_has() {  # vm version: the agent's ledger (through status) shows the payload at it
  "$gitdisc" status "${args[@]}" -o json 2>/dev/null |
    jq -e --arg n "$1" --arg v "$2" \
      '.vms[] | select(.name == $n) | .payloads[] | select(.name == "tool" and .version == $v and .state == "applied")' \
      >/dev/null
}
vm_field() {  # vm jq-field → from `gitdisc status -o json`
  "$gitdisc" status "${args[@]}" -o json 2>/dev/null |
    jq -r --arg n "$1" ".vms[] | select(.name == \$n) | $2"
}

wait_agent "$f1"
wait_agent "$f2"
check "first rollout converges" run_gitdisc 0 first.log reconcile "${args[@]}" --timeout 5m

# A. kill -9 at random moments.
for t in $(seq 1 "$trials"); do
  bump
  delay_ms=$(( RANDOM % 2500 ))  # a rollout of both VMs takes about 2 s here
  "$gitdisc" reconcile "${args[@]}" --timeout 5m > "$work/kill$t.log" 2>&1 &
  pid=$!
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  last=$(grep -oE ': (build|reuse|insert|apply|result|done|ejected|eject)\b' "$work/kill$t.log" | tail -n1 | tr -d ': ' || true)
  ok=1
  run_gitdisc 0 "rerun$t.log" reconcile "${args[@]}" --timeout 5m || ok=0
  for vm in "$f1" "$f2"; do
    applied_once "$vm" "$version" || { ok=0; echo "  $vm: v$version applied $(console_count "$vm" "tool v$version done") times"; }
    ledger_has "$vm" "$version" || { ok=0; echo "  $vm: the ledger does not show v$version applied"; }
    drive_empty "$vm" || { ok=0; echo "  $vm: a disc is still in the drive"; }
  done
  [ "$(pins_left)" -eq 0 ] || { ok=0; echo "  image pins left: $(find "$state/isos/pins" -type f)"; }
  check "kill -9 trial $t at ${delay_ms} ms (last step seen: ${last:-none}): rerun converges, v$version once per VM, drives empty, no pins" \
    test "$ok" -eq 1
done

# B1. A VM without the agent channel.
check "label puts the channel-less VM into the set" \
  run_gitdisc 0 label-nochan.log label "$nochan" role=app --connect "$uri"
check "reconcile does not converge while a VM has no channel (exit 1)" \
  run_gitdisc 1 nochan.log reconcile "${args[@]}" --timeout 20s
check "the VM is AgentUnavailable" test "$(vm_field "$nochan" .condition)" = AgentUnavailable
check "the message names the missing channel" \
  bash -c "[[ \"\$1\" == *org.gitdisc.agent.0* ]]" _ "$(vm_field "$nochan" .message)"
check "the other VMs stay Ready" test "$(vm_field "$f1" .condition)/$(vm_field "$f2" .condition)" = Ready/Ready
# The fix: the channel added to the definition (labels kept), then a restart.
virsh -q -c "$uri" dumpxml --inactive "$nochan" > "$work/$nochan.fixed.xml"
sed -i "s|<devices>|<devices><channel type='unix'><target type='virtio' name='org.gitdisc.agent.0'/></channel>|" \
  "$work/$nochan.fixed.xml"
virsh -q -c "$uri" define "$work/$nochan.fixed.xml" >/dev/null
virsh -q -c "$uri" destroy "$nochan" >/dev/null
: > "$work/$nochan.console.log"
virsh -q -c "$uri" start "$nochan" >/dev/null
wait_agent "$nochan"
check "with the channel added, reconcile converges" \
  run_gitdisc 0 nochan-fixed.log reconcile "${args[@]}" --timeout 5m
check "the formerly channel-less VM applied v$version once" applied_once "$nochan" "$version"
check "label takes it out again" run_gitdisc 0 label-nochan2.log label "$nochan" role- --connect "$uri"

# B2. The ISO cache on a full disk.
bump
dd if=/dev/urandom of="$repo/payloads/tool/blob" bs=1M count=3 status=none
git -C "$repo" add -A && git -C "$repo" commit -qm "tool v$version with a blob" &&
  git -C "$repo" push -q "$remote" HEAD:main
small_args=(--repo "file://$remote" --connect "$uri" --state-dir "$small")
check "reconcile with a full cache disk fails (exit 1 or 2), not hangs" \
  bash -c '"$@" > "$0" 2>&1; rc=$?; [ $rc -eq 1 ] || [ $rc -eq 2 ]' "$work/full.log" \
  "$gitdisc" reconcile "${small_args[@]}" --timeout 30s
check "the error says the disk is full" grep -qi "no space left" "$work/full.log"
check "no partial image is left in the cache" \
  bash -c "! ls '$small/isos/' 2>/dev/null | grep -q '\\.iso$'"
for vm in "$f1" "$f2"; do check "$vm: nothing inserted while the disk is full" drive_empty "$vm"; done
mount -o remount,size=64m "$small"
check "with room again, reconcile converges" \
  run_gitdisc 0 full-fixed.log reconcile "${small_args[@]}" --timeout 5m
for vm in "$f1" "$f2"; do check "$vm: v$version applied once" applied_once "$vm" "$version"; done
umount "$small"

# B3. The Git remote gone: the last fetched revision stays usable.
mv "$remote" "$remote.gone"
check "diff with the remote gone still plans from the mirror (exit 0, in sync)" \
  run_gitdisc 0 gone.log diff "${args[@]}"
check "the failed fetch is reported" grep -qiE "fetch|remote" "$work/gone.log"
mv "$remote.gone" "$remote"
bump
check "with the remote back, the new commit converges" \
  run_gitdisc 0 back.log reconcile "${args[@]}" --timeout 5m
for vm in "$f1" "$f2"; do check "$vm: v$version applied once" applied_once "$vm" "$version"; done

# B4. The agent killed mid-apply (the payload kills it on its first run only;
# the guest's init restarts the agent, whose ledger marks the op failed).
bump '[ -e /tmp/agent-killed-v'"$((version + 1))"' ] || { touch /tmp/agent-killed-v'"$((version + 1))"'; kill -9 $(pidof gitdisc-agent); sleep 2; }'
check "reconcile --retry-failed converges after the agent was killed mid-apply" \
  run_gitdisc 0 agentkill.log reconcile "${args[@]}" --retry-failed --timeout 5m
check "the agent was restarted in the guest" \
  grep -aq "agent exited with" "$work/$f1.console.log"
check "the lost apply was reported" grep -qE "error|failed" "$work/agentkill.log"
for vm in "$f1" "$f2"; do
  check "$vm: v$version done once after the retry" applied_once "$vm" "$version"
  check "$vm: drive empty" drive_empty "$vm"
done

# B5. libvirtd restarted mid-rollout.
bump 'sleep 3'
"$gitdisc" reconcile "${args[@]}" --timeout 5m > "$work/libvirtd.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do grep -q ' apply ' "$work/libvirtd.log" && break; sleep 0.1; done
pkill -TERM -x libvirtd || true
for _ in $(seq 1 100); do pgrep -x libvirtd >/dev/null || break; sleep 0.1; done
bash "$src/scripts/start-libvirtd.sh" >/dev/null
rc=0
wait "$pid" || rc=$?
check "the reconcile running across the libvirtd restart ended (exit $rc, not a hang)" test "$rc" -le 2
check "a rerun converges after the restart" \
  run_gitdisc 0 libvirtd2.log reconcile "${args[@]}" --timeout 5m
for vm in "$f1" "$f2"; do
  check "$vm: v$version applied once across the restart" applied_once "$vm" "$version"
  check "$vm: drive empty" drive_empty "$vm"
done
check "no image pins left" test "$(pins_left)" -eq 0

# B6. The VM destroyed mid-apply and started again (its ledger was in RAM:
# a fresh guest, which gets the current payload once more).
bump 'sleep 3'
"$gitdisc" reconcile "${args[@]}" --timeout 5m > "$work/destroy.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do grep -q "$f2: apply" "$work/destroy.log" && break; sleep 0.1; done
virsh -q -c "$uri" destroy "$f2" >/dev/null
rc=0
wait "$pid" || rc=$?
check "reconcile reports the vanished VM (exit $rc)" test "$rc" -eq 1 -o "$rc" -eq 0
check "the stopped VM is Pending (NotRunning)" test "$(vm_field "$f2" .reason)" = NotRunning
: > "$work/$f2.console.log"
virsh -q -c "$uri" start "$f2" >/dev/null
wait_agent "$f2"
check "after the VM is back, reconcile converges" \
  run_gitdisc 0 destroy2.log reconcile "${args[@]}" --timeout 5m
check "$f2: v$version applied once after the restart" applied_once "$f2" "$version"
check "$f1: v$version applied once" applied_once "$f1" "$version"
for vm in "$f1" "$f2"; do check "$vm: drive empty" drive_empty "$vm"; done
check "no image pins left" test "$(pins_left)" -eq 0

e2e_finish
