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
#      converging once the fault is gone: a VM without the agent channel and
#      CD-ROM (NotManageable, fixed by `gitdisc vm prepare` and a restart); the
#      ISO cache on a full disk; the Git remote gone; the agent killed
#      mid-apply; libvirtd restarted mid-rollout; the VM destroyed mid-apply;
#      the guest holding the tray locked after the agent released the disc.
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
define_vm "$nochan" "" no no  # no channel, no CD-ROM

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

# B1. A VM without the agent channel and without a CD-ROM, beside the two
# normal ones: NotManageable at once (reconcile does not wait out its
# timeout), `gitdisc vm check` says what it lacks, `gitdisc vm prepare` adds
# both to its persistent definition, and after a restart it converges.
check "label puts the bare VM into the set" \
  run_gitdisc 0 label-nochan.log label "$nochan" role=app --connect "$uri"
check "vm check of the bare VM exits 1" run_gitdisc 1 check-nochan.log vm check "$nochan" --connect "$uri"
check "vm check names the channel and the missing CD-ROM" \
  bash -c "grep -q 'lacks     the virtio-serial channel org.gitdisc.agent.0' '$work/check-nochan.log' &&
           grep -q 'a CD-ROM drive on a bus with a tray' '$work/check-nochan.log'"
check "vm check of a normal VM exits 0" run_gitdisc 0 check-f1.log vm check "$f1" --connect "$uri"
started=$(date +%s)
check "reconcile exits 1 with a bare VM selected" \
  run_gitdisc 1 nochan.log reconcile "${args[@]}" --timeout 10m
took=$(( $(date +%s) - started ))
check "reconcile did not wait for the bare VM (took ${took}s of a 10m timeout)" test "$took" -lt 120
check "reconcile reports it as not manageable" grep -q "not manageable.*$nochan" "$work/nochan.log"
check "the VM is NotManageable" test "$(vm_field "$nochan" .condition)" = NotManageable
check "the message names the missing channel" \
  bash -c "[[ \"\$1\" == *org.gitdisc.agent.0* ]]" _ "$(vm_field "$nochan" .message)"
check "the other VMs stay Ready" test "$(vm_field "$f1" .condition)/$(vm_field "$f2" .condition)" = Ready/Ready
# The fix: gitdisc vm prepare, then a restart.
check "vm prepare --dry-run shows the two devices" \
  run_gitdisc 0 prepare-dry.log vm prepare "$nochan" --dry-run --connect "$uri"
check "the dry run names the channel and an IDE CD-ROM" \
  bash -c "grep -q '^+ <channel' '$work/prepare-dry.log' && grep -q '^+ <disk.*bus=\"ide\"' '$work/prepare-dry.log'"
check "the dry run changed nothing" \
  bash -c "! virsh -q -c '$uri' dumpxml --inactive '$nochan' | grep -q org.gitdisc.agent.0"
check "vm prepare adds them" run_gitdisc 0 prepare.log vm prepare "$nochan" --connect "$uri"
check "vm prepare says a restart is needed" grep -q "shut it down and start it again" "$work/prepare.log"
check "the definition has the channel and the drive" \
  bash -c "virsh -q -c '$uri' dumpxml --inactive '$nochan' | grep -q org.gitdisc.agent.0 &&
           virsh -q -c '$uri' dumpxml --inactive '$nochan' | grep -q \"device='cdrom'\""
check "vm prepare again adds nothing" run_gitdisc 0 prepare2.log vm prepare "$nochan" --connect "$uri"
check "the second prepare says the definition is complete" \
  grep -q "has everything gitdisc needs" "$work/prepare2.log"
check "vm check still exits 1 until the restart" \
  run_gitdisc 1 check-nochan2.log vm check "$nochan" --connect "$uri"
virsh -q -c "$uri" destroy "$nochan" >/dev/null
: > "$work/$nochan.console.log"
virsh -q -c "$uri" start "$nochan" >/dev/null
wait_agent "$nochan"
check "after the restart vm check exits 0" \
  run_gitdisc 0 check-nochan3.log vm check "$nochan" --connect "$uri" -o json
check "vm check -o json says manageable with cdrom delivery" \
  test "$(jq -r '.vms[0].manageable, .vms[0].usable[0]' "$work/check-nochan3.log" | tr '\n' ' ')" = "true cdrom "
check "reconcile converges, delivering through the new drive" \
  run_gitdisc 0 nochan-fixed.log reconcile "${args[@]}" --timeout 5m
check "the formerly bare VM applied v$version once" applied_once "$nochan" "$version"
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

# B7. The guest holds the tray locked after the agent released the disc
# (DESIGN.md §7: eject once released, retry, then force). On f1 only (f2 is
# the control, ejected without force), found by its SMBIOS UUID, the payload
# leaves a process in its own session, so it outlives the payload's process
# group, that keeps the drive open and re-opens it in a tight loop: Linux's
# cdrom driver locks the door on every open of a drive with a disc
# (dev.cdrom.lock=1), so the door is locked again right after the agent's
# CDROM_LOCKDOOR 0. The payload waits until the process holds the drive (the
# agent kills the payload's process group when the payload exits). Once the
# disc is gone every open fails and the process ends (60 s at most).
locker=$(cat <<'SH'
if [ "$(cat /sys/class/dmi/id/product_uuid)" = LOCKED_UUID ]; then
  rm -f /tmp/tray-locker-up
  setsid timeout 60 sh -c '
    cd /; exec 3</dev/sr0 || exit; : > /tmp/tray-locker-up; failed=0
    while [ $failed -lt 50 ]; do
      if true </dev/sr0; then failed=0; else failed=$((failed + 1)); fi
    done' </dev/null >/dev/null 2>&1 &
  while [ ! -e /tmp/tray-locker-up ]; do sleep 0.1; done
fi
SH
)
tray_locked_with_disc() {  # vm: QEMU (query-block, read-only) shows a disc in a locked tray
  virsh -q -c "$uri" qemu-monitor-command "$1" '{"execute":"query-block"}' |
    jq -e '[.return[] | select(.removable and .locked and .inserted != null)] | length == 1' >/dev/null
}
line_of() {  # log, text at a line's start → the first such line's number (empty if none)
  grep -n "^$2" "$1" | head -n1 | cut -d: -f1
}
forced_after_done() {  # vm log: the forced eject is logged after the agent's done, then the eject
  local done_at forced_at
  done_at=$(line_of "$2" "$1: done ok")
  forced_at=$(line_of "$2" "$1: eject hdc (forced)")
  [ -n "$done_at" ] && [ -n "$forced_at" ] && [ "$done_at" -lt "$forced_at" ] &&
    grep -q "^$1: ejected hdc" "$2" && return 0
  echo "  $1's steps in the reconcile log:"
  grep "^$1: " "$2" | sed 's/^/    /'
  return 1
}
bump "${locker//LOCKED_UUID/$(virsh -q -c "$uri" domuuid "$f1")}"
"$gitdisc" reconcile "${args[@]}" --timeout 5m > "$work/locked.log" 2>&1 &
pid=$!
locked_after_release=no
while kill -0 "$pid" 2>/dev/null; do
  # "done" is printed once the agent reported the disc released: a locked
  # tray seen after that was locked again by the guest.
  if [ "$locked_after_release" = no ] && grep -q "^$f1: done" "$work/locked.log" &&
    tray_locked_with_disc "$f1"; then
    locked_after_release=yes
  fi
  sleep 0.2
done
rc=0
wait "$pid" || rc=$?
check "reconcile converges although a guest keeps the tray locked (exit $rc)" test "$rc" -eq 0
check "$f1: QEMU showed the disc in a locked tray after the agent had released it" \
  test "$locked_after_release" = yes
check "$f1: the forced eject is reported, after the agent's done" \
  forced_after_done "$f1" "$work/locked.log"
check "$f2 (tray not held): ejected without force" \
  bash -c '! grep -q "^$1: eject hdc (forced)" "$2" && grep -q "^$1: ejected hdc" "$2"' _ "$f2" "$work/locked.log"
for vm in "$f1" "$f2"; do
  check "$vm: the agent released the disc (no unmount or unlock error on the console)" \
    bash -c '! grep -aqE "gitdisc-agent: (unmount|unlock) " "$1"' _ "$work/$vm.console.log"
  check "$vm: v$version applied once (console)" applied_once "$vm" "$version"
  check "$vm: the ledger shows v$version applied" ledger_has "$vm" "$version"
  check "$vm: drive empty" drive_empty "$vm"
done
check "no image pins left" test "$(pins_left)" -eq 0

e2e_finish
