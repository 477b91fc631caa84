#!/usr/bin/env bash
# Makes sure qemu:///system answers: starts virtlogd and libvirtd as daemons
# when they are not running (CI machines have no systemd). Idempotent.
set -euo pipefail
if virsh -c qemu:///system version >/dev/null 2>&1; then
  exit 0
fi
pgrep -x virtlogd >/dev/null || virtlogd -d
pgrep -x libvirtd >/dev/null || libvirtd -d
for _ in $(seq 1 100); do
  if virsh -c qemu:///system version >/dev/null 2>&1; then
    exit 0
  fi
  sleep 0.1
done
echo "start-libvirtd.sh: qemu:///system does not answer after 10 s" >&2
exit 1
