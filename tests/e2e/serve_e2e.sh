#!/usr/bin/env bash
# End-to-end daemon on a real QEMU guest: `gitdisc serve` follows a branch
# whose poll interval is an hour, so only a webhook can move it.
#
#   1. serve starts, becomes ready and converges the VM to the first commit.
#   2. A new commit plus a signed GitHub push webhook: the VM gets the new
#      payload without waiting for the poll; the log names the time from the
#      webhook to the first disc inserted (printed here); a replayed delivery
#      and a bad signature are refused.
#   3. /api/v1/status, /metrics (promtool-clean when promtool is installed)
#      and the status page show the new revision.
#   4. SIGTERM: exit 0, no disc left in the drive.
# The daemon's state folder is private (2750, a group of QEMU's user) and the
# inserts by path still work: QEMU reaches them through the group.
#
# Usage: serve_e2e.sh GITDISC_BINARY GUEST_DIR SOURCE_DIR   (as root)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
e2e_setup "$@"

vm="gitdisc-test-$$-srv-1"
define_vm "$vm" app yes

repo="$work/repo"
tool_repo "$repo" ""
write_payload() {  # version
  tool_version "$1" "echo \"gitdisc-payload tool v$1\" > /dev/console"
}
write_payload 1
git -C "$repo" add -A
git -C "$repo" commit -qm "tool v1"

secret="$work/github.secret"
(umask 077 && printf 'e2e-%s-secret' "$$" > "$secret")
port=$(( 30000 + $$ % 20000 ))
base="http://127.0.0.1:$port"
cat > "$work/serve.yaml" <<YAML
source: {repo: $repo, branch: main, path: ., interval: 1h}
connections: ["$uri"]
stateDir: $work/state
listen: 127.0.0.1:$port
webhooks:
  github: {secretFile: $secret}
YAML

"$gitdisc" serve --config "$work/serve.yaml" --log-format json > "$work/serve.log" 2>&1 &
serve_pid=$!
e2e_extra_cleanup() { kill -9 "$serve_pid" 2>/dev/null || true; }

wait_for() {  # seconds command... → succeeds when the command does within the time
  local end=$((SECONDS + $1))
  shift
  until "$@"; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.5
  done
}
http_ok() { curl -fs -o /dev/null "$base$1"; }
console_once() { test "$(console_count "$1" "$2")" -eq 1; }  # vm text

wait_agent "$vm"
check "serve answers /healthz" wait_for 30 http_ok /healthz
check "serve becomes ready (/readyz)" wait_for 120 http_ok /readyz
check "the first commit is applied (initial pass)" \
  wait_for 180 console_once "$vm" "tool v1"

# 2. A push, announced by a signed webhook.
write_payload 2
git -C "$repo" commit -qam "tool v2"
head=$(git -C "$repo" rev-parse HEAD)
body="{\"ref\":\"refs/heads/main\",\"after\":\"$head\"}"
sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$(cat "$secret")" -r | cut -d' ' -f1)
hook() {  # signature delivery-id → prints the HTTP status; the body in $work/hook.out
  curl -sS -o "$work/hook.out" -w '%{http_code}' -X POST "$base/hooks/github" \
    -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' \
    -H "X-GitHub-Delivery: $2" -H "X-Hub-Signature-256: sha256=$1" --data-binary "$body"
}
wrong=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "not-the-secret" -r | cut -d' ' -f1)
check "a push signed with another secret is refused (401)" test "$(hook "$wrong" bad-1)" = 401
code=$(hook "$sig" d-1)
check "the signed push is accepted ($code)" test "$code" = 202 -o "$code" = 200
check "the new commit reaches the VM without waiting for the poll" \
  wait_for 180 console_once "$vm" "tool v2"
hook "$sig" d-1 >/dev/null
check "a replayed delivery is answered duplicate" test "$(jq -r .result "$work/hook.out")" = duplicate
first_insert() {  # the log line timing the first insert of $head
  grep -a '"first disc of a new revision inserted"' "$work/serve.log" | grep -a "$head" | head -n1
}
first_insert_logged() { first_insert | jq -e '.fields.since_trigger_ms | tonumber >= 0' >/dev/null; }
check "the log times the webhook to the first disc inserted" wait_for 10 first_insert_logged
line=$(first_insert || true)
if [ -n "$line" ]; then
  echo "webhook → first disc inserted: $(jq -r .fields.since_trigger_ms <<<"$line") ms" \
    "(trigger: $(jq -r .fields.trigger <<<"$line"))"
fi
check "the drive is empty after the apply" wait_for 30 drive_empty "$vm"
# The images were inserted by path from a private state folder: QEMU reaches
# them through the folder's group, nobody else at all (docs/security.md).
state_mode=$(stat -c '%a %G' "$work/state")
qemu_groups=" $(id -Gn libvirt-qemu) "
check "the state folder is private to the daemon and a group of QEMU's ($state_mode)" \
  test "${state_mode% *}" = 2750 -a "${qemu_groups/ ${state_mode#* } /}" != "$qemu_groups"
image=$(ls "$work"/state/isos/*.iso | head -n1)
check "another local user cannot read an inserted image" \
  bash -c "! setpriv --reuid=nobody --regid=nogroup --clear-groups cat '$image' >/dev/null 2>&1"

# 3. What the daemon shows.
# The status is rewritten at the end of every pass: the pass after the apply says Ready.
status_shows() {  # jq-filter expected
  curl -fsS "$base/api/v1/status" > "$work/status.json" &&
    test "$(jq -r --arg n "$vm" "$1" "$work/status.json")" = "$2"
}
check "/api/v1/status: source at the new commit" wait_for 30 status_shows .source.revision "$head"
check "/api/v1/status: the VM is Ready" \
  wait_for 30 status_shows '.vms[] | select(.name == $n) | .condition' Ready
curl -fsS "$base/metrics" > "$work/metrics.txt" || true
check "/metrics: the revision info names the new commit" \
  grep -q "^gitdisc_source_revision_info{revision=\"$head\"} 1$" "$work/metrics.txt"
check "/metrics: reconcile durations are observed" \
  awk '$1 == "gitdisc_reconcile_duration_seconds_count" && $2 > 0 {found=1} END {exit !found}' "$work/metrics.txt"
if command -v promtool >/dev/null; then
  check "/metrics passes promtool check metrics" bash -c "promtool check metrics < '$work/metrics.txt'"
fi
curl -fsS "$base/" > "$work/page.html" || true
check "the status page shows the new revision" grep -q "${head:0:12}" "$work/page.html"

# 4. SIGTERM.
kill -TERM "$serve_pid"
rc=0
for _ in $(seq 1 240); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.5; done
wait "$serve_pid" || rc=$?
check "SIGTERM: serve exits 0 (exit $rc)" test "$rc" -eq 0
check "no disc left in the drive after SIGTERM" drive_empty "$vm"

if [ "$failures" -ne 0 ]; then
  echo "serve log (last 40 lines):"
  tail -n 40 "$work/serve.log" | sed 's/^/    /'
fi
e2e_finish
