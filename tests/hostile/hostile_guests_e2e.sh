#!/usr/bin/env bash
# Hostile guests on real QEMU (docs/security.md "A hostile guest"): the real
# gitdisc binary and libvirtd, two honest guests running gitdisc-agent, and
# five guests whose "agent" attacks the host over org.gitdisc.agent.0
# (tests/hostile/hostile-agent.sh, appended to the test guest's initramfs in
# place of /sbin/gitdisc-agent): a newline flood, a junk-JSON flood, a line
# that never ends, a mute channel, and an event flood during an apply.
# One booted fleet serves every check:
#   - `reconcile --timeout` ends by its timeout with exit 1, the honest VMs
#     converged and applied the payload exactly once, and the controller's
#     peak RSS (VmHWM) stayed bounded;
#   - `status` and `diff` finish promptly and report each hostile VM with its
#     own condition and reason (AgentMisbehaving + the bound; the mute one
#     AgentUnavailable);
#   - a second reconcile applies nothing again to the honest VMs.
#
# Usage: hostile_guests_e2e.sh GITDISC_BINARY GUEST_DIR SOURCE_DIR   (as root)
set -euo pipefail
# shellcheck source=../e2e/lib.sh
source "$(dirname "$0")/../e2e/lib.sh"
e2e_setup "$@"
here=$(cd "$(dirname "$0")" && pwd)

timeout_s=${HOSTILE_TIMEOUT:-30}     # reconcile's --timeout
rss_limit_kb=${HOSTILE_RSS_KB:-262144}  # 256 MiB

# The hostile initramfs: the test guest's, plus a second archive that puts
# the hostile script where /init starts the agent (later entries win).
stage="$work/hostile-stage"
mkdir -p "$stage/sbin"
install -m 0755 "$here/hostile-agent.sh" "$stage/sbin/gitdisc-agent"
install -m 0644 "$here/hostile-agent.awk" "$stage/sbin/hostile-agent.awk"
cp "$work/initrd.img" "$work/hostile-initrd.img"
(cd "$stage" && find . -print0 | sort -z | cpio --null -o -H newc --quiet -R 0:0) |
  gzip -9n >> "$work/hostile-initrd.img"
chmod 0644 "$work/hostile-initrd.img"

# define_hostile NAME MODE: a guest labelled role=hostile whose agent is MODE.
define_hostile() {
  local name=$1 mode=$2
  guest_domain_xml "$name" "$work" "role=hostile" yes |
    sed -e "s|$work/initrd.img|$work/hostile-initrd.img|" \
        -e "s|<cmdline>\\(.*\\)</cmdline>|<cmdline>\\1 gitdisc.hostile=$mode</cmdline>|" \
        > "$work/$name.xml"
  e2e_domains+=("$name")
  virsh -q -c "$uri" define "$work/$name.xml" >/dev/null
  virsh -q -c "$uri" start "$name" >/dev/null
}
wait_hostile() {  # vm mode
  local _
  for _ in $(seq 1 600); do
    grep -aq "gitdisc-hostile: $2 on" "$work/$1.console.log" 2>/dev/null && break
    sleep 0.5
  done
  check "$1: the hostile agent ($2) runs in the guest" \
    grep -aq "gitdisc-hostile: $2 on" "$work/$1.console.log"
}

p="gitdisc-test-$$"
h1="$p-h-1"
h2="$p-h-2"
declare -A hostile=(
  ["$p-x-newline"]=newline-flood
  ["$p-x-junk"]=junk-json-flood
  ["$p-x-endless"]=endless-line
  ["$p-x-mute"]=mute
  ["$p-x-events"]=event-flood-on-apply
)
define_vm "$h1" app yes
define_vm "$h2" app yes
for vm in "${!hostile[@]}"; do define_hostile "$vm" "${hostile[$vm]}"; done

# The fleet: the honest set `app` (both honest VMs at once) and a set of its
# own for the hostile VMs, so their rollout never holds the honest one back.
repo="$work/repo"
tool_repo "$repo" "{maxParallel: 2, maxFailures: 0}"
tool_version 1 'echo "gitdisc-payload tool v1 done" > /dev/console'
cat > "$repo/hostile.yaml" <<YAML
apiVersion: gitdisc/v1
kind: PayloadSet
metadata: {name: hostile}
spec:
  selector:
    matchLabels: {role: hostile}
    names: ["$p-*"]
  payloads:
    - {name: tool, version: "1", path: payloads/tool, run: ["./install.sh"], timeout: 1m}
  rollout: {maxParallel: "100%", maxFailures: 100}
YAML
git -C "$repo" add -A
git -C "$repo" commit -qm "tool v1, hostile set"

state="$work/state"
args=(--repo "$repo" --connect "$uri" --state-dir "$state")

wait_agent "$h1"
wait_agent "$h2"
for vm in "${!hostile[@]}"; do wait_hostile "$vm" "${hostile[$vm]}"; done

# 1. reconcile beside the hostile guests: ends by its timeout, exit 1, the
# honest VMs converge once; its peak RSS sampled from /proc while it runs.
start=$(date +%s)
"$gitdisc" reconcile "${args[@]}" --timeout "${timeout_s}s" > "$work/reconcile.log" 2>&1 &
pid=$!
hwm=0
while kill -0 "$pid" 2>/dev/null; do
  kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  [ -n "$kb" ] && [ "$kb" -gt "$hwm" ] && hwm=$kb
  sleep 0.2
done
rc=0
wait "$pid" || rc=$?
took=$(( $(date +%s) - start ))
echo "reconcile: exit $rc after ${took} s, peak RSS ${hwm} kB"
check "reconcile beside hostile guests exits 1 (not converged)" test "$rc" -eq 1
check "reconcile ends by its --timeout (${timeout_s} s; took ${took} s)" \
  test "$took" -le $((timeout_s + 30))
check "the controller's peak RSS stays bounded (${hwm} kB <= ${rss_limit_kb} kB)" \
  test "$hwm" -gt 0 -a "$hwm" -le "$rss_limit_kb"
for vm in "$h1" "$h2"; do
  check "$vm: honest VM applied v1 exactly once" \
    test "$(console_count "$vm" "gitdisc-payload tool v1 done")" -eq 1
  check "$vm: its drive is empty again" drive_empty "$vm"
done
check "the event flood began only after gitdisc's apply" \
  grep -aq "gitdisc-hostile: flooding events of op-" "$work/$p-x-events.console.log"
check "reconcile's table names the flood of events (TooManyEvents)" \
  grep -q "TooManyEvents" "$work/reconcile.log"

# 2. status and diff, each a fresh process that meets the hostile guests
# again: prompt, and every hostile VM reported with its own reason.
timed() {  # limit-seconds want-exit log args... : runs gitdisc within the limit
  local limit=$1 want=$2 log=$3 t0 rc=0
  shift 3
  t0=$(date +%s)
  timeout "$((limit + 30))" "$gitdisc" "$@" > "$work/$log" 2>"$work/$log.err" || rc=$?
  local dt=$(( $(date +%s) - t0 ))
  echo "gitdisc $1: exit $rc after $dt s"
  [ "$rc" -eq "$want" ] && [ "$dt" -le "$limit" ]
}
check "status -o json finishes promptly (<= 25 s)" timed 25 0 status.json status "${args[@]}" -o json
reason() { jq -r --arg n "$1" '.vms[] | select(.name == $n) | "\(.condition)/\(.reason)"' "$work/status.json"; }
check "status: honest VMs Ready" test "$(reason "$h1") $(reason "$h2")" = "Ready/Applied Ready/Applied"
check "status: newline flood is AgentMisbehaving/JunkLines" \
  test "$(reason "$p-x-newline")" = AgentMisbehaving/JunkLines
check "status: junk-JSON flood is AgentMisbehaving/JunkLines" \
  test "$(reason "$p-x-junk")" = AgentMisbehaving/JunkLines
check "status: the endless line is AgentMisbehaving/LineTooLong" \
  test "$(reason "$p-x-endless")" = AgentMisbehaving/LineTooLong
check "status: the mute channel is AgentUnavailable" \
  test "$(reason "$p-x-mute")" = AgentUnavailable/AgentUnavailable
events_reason=$(reason "$p-x-events")
check "status: the event flood is AgentMisbehaving (TooManyEvents or EventQueueFull; got $events_reason)" \
  bash -c '[[ $1 == AgentMisbehaving/TooManyEvents || $1 == AgentMisbehaving/EventQueueFull ]]' _ "$events_reason"
check "status: messages quote nothing unbounded (longest $(jq '[.vms[].message | length] | max' "$work/status.json") chars)" \
  test "$(jq '[.vms[].message | length] | max' "$work/status.json")" -le 400
check "reconcile's table (text) names the condition" grep -q AgentMisbehaving "$work/reconcile.log"
check "diff finishes promptly (<= 25 s), exit 1 (the hostile VMs are not in sync)" \
  timed 25 1 diff.log diff "${args[@]}"

# 3. Another reconcile: nothing is applied again to the honest VMs.
check "a second reconcile also ends by its timeout with exit 1" \
  run_gitdisc 1 reconcile2.log reconcile "${args[@]}" --timeout 10s
for vm in "$h1" "$h2"; do
  check "$vm: still applied exactly once" \
    test "$(console_count "$vm" "gitdisc-payload tool v1 done")" -eq 1
done

e2e_finish
