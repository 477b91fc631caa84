#!/usr/bin/env bash
# Builds the tiny test guest for the real-guest tests (docs/agent.md):
#   OUT_DIR/vmlinuz     the Debian kernel (linux-image-amd64), mode 0644, for
#                       direct kernel boot (QEMU runs as libvirt-qemu)
#   OUT_DIR/initrd.img  gzip'd cpio (newc): busybox-static, the modules of
#                       DESIGN.md §9 in load order, /init, and gitdisc-agent
# No network device, no disk: the guest only has the CD-ROM drive and the
# agent's virtio-serial port. Its state (ledger) lives in RAM, so it survives
# an agent restart but not a reboot.
#
# Usage: build-guest.sh AGENT_BINARY OUT_DIR
# Cached: rebuilt only when an input changes (agent, busybox, kernel, modules,
# this script); the input digest is kept in OUT_DIR/inputs.sha256.
set -euo pipefail

agent=${1:?usage: build-guest.sh AGENT_BINARY OUT_DIR}
out=${2:?usage: build-guest.sh AGENT_BINARY OUT_DIR}

lib=$(dirname "$(readlink -f "$0")")/guest-lib.sh
# shellcheck source-path=SCRIPTDIR source=guest-lib.sh
source "$lib"
fail() { echo "build-guest.sh: $*" >&2; exit 1; }

guest_find_busybox || exit 1
if ! guest_is_static "$agent"; then fail "$agent is not statically linked"; fi
guest_find_kernel || exit 1
kver=$guest_kver
guest_find_modules "${guest_base_modules[@]}" || exit 1

inputs=$(guest_inputs_digest "$agent" "$guest_busybox" "/boot/vmlinuz-$kver" \
  "$(readlink -f "$0")" "$lib" "${guest_modfiles[@]#*:}")

mkdir -p "$out"
if [ -f "$out/inputs.sha256" ] && [ "$(cat "$out/inputs.sha256")" = "$inputs" ] &&
   [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ]; then
  echo "build-guest.sh: $out is up to date (kernel $kver)"
  exit 0
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,run,var/lib,etc,root}
cp "$guest_busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
cp "$agent" "$stage/sbin/gitdisc-agent"
chmod 0755 "$stage/sbin/gitdisc-agent"
strip --strip-debug "$stage/sbin/gitdisc-agent" 2>/dev/null || true

guest_stage_modules "$stage"
load_order=$guest_load_order

cat > "$stage/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mkdir -p /var/lib/gitdisc-agent
for m in$load_order; do
  insmod /lib/modules/\$m.ko || echo "gitdisc-guest: insmod \$m failed"
done
hostname gitdisc-guest
echo "gitdisc-guest: kernel \$(uname -r) up, modules loaded"
# The agent, restarted whenever it exits (its ledger is in /var/lib).
(
  while true; do
    /sbin/gitdisc-agent
    echo "gitdisc-guest: agent exited with \$?, restarting"
    sleep 1
  done
) </dev/null >/dev/console 2>&1 &
# PID 1 stays here and reaps orphans.
while true; do sleep 3600; done
INIT
chmod 0755 "$stage/init"

guest_pack_initrd "$stage" "$out/initrd.img.tmp"
install -m 0644 "/boot/vmlinuz-$kver" "$out/vmlinuz.tmp"
chmod 0644 "$out/initrd.img.tmp"
mv "$out/initrd.img.tmp" "$out/initrd.img"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
echo "$kver" > "$out/kernel-version"
echo "$inputs" > "$out/inputs.sha256"
echo "build-guest.sh: built $out/{vmlinuz,initrd.img} (kernel $kver)"
