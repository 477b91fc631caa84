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

modules=(scsi_common scsi_mod cdrom sr_mod libata ata_piix virtio_ring virtio
         virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_console virtio_blk isofs)

busybox=$(command -v busybox || true)
for cand in /bin/busybox /usr/bin/busybox; do
  [ -x "$cand" ] && busybox=$cand && break
done
# Static = no program interpreter (readelf is in binutils, part of build-essential).
is_static() {
  local f
  f=$(readlink -f "$1")
  readelf -h "$f" >/dev/null 2>&1 && ! readelf -l "$f" | grep -q "program interpreter"
}
if [ -z "$busybox" ] || ! is_static "$busybox"; then
  echo "build-guest.sh: a static busybox is needed (apt-get install busybox-static)" >&2
  exit 1
fi
if ! is_static "$agent"; then
  echo "build-guest.sh: $agent is not statically linked" >&2
  exit 1
fi

# The newest installed kernel that has its modules.
kver=
for k in $(ls /boot/vmlinuz-* 2>/dev/null | sed 's|/boot/vmlinuz-||' | sort -V -r); do
  if [ -d "/lib/modules/$k/kernel" ]; then kver=$k; break; fi
done
if [ -z "$kver" ]; then
  echo "build-guest.sh: no /boot/vmlinuz-* with /lib/modules (apt-get install linux-image-amd64)" >&2
  exit 1
fi
moddir=/lib/modules/$kver/kernel

modfiles=()
for m in "${modules[@]}"; do
  f=$(find "$moddir" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" | head -n1)
  if [ -z "$f" ]; then
    # Built into this kernel: nothing to load.
    if grep -q "/$m.ko\$" "/lib/modules/$kver/modules.builtin" 2>/dev/null; then continue; fi
    echo "build-guest.sh: module $m not found under $moddir" >&2
    exit 1
  fi
  modfiles+=("$m:$f")
done

script_path=$(readlink -f "$0")
inputs=$( {
  sha256sum "$agent" "$busybox" "/boot/vmlinuz-$kver" "$script_path"
  for mf in "${modfiles[@]}"; do sha256sum "${mf#*:}"; done
} | sha256sum | cut -d' ' -f1)

mkdir -p "$out"
if [ -f "$out/inputs.sha256" ] && [ "$(cat "$out/inputs.sha256")" = "$inputs" ] &&
   [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ]; then
  echo "build-guest.sh: $out is up to date (kernel $kver)"
  exit 0
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,run,var/lib,lib/modules,etc,root}
cp "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
cp "$agent" "$stage/sbin/gitdisc-agent"
chmod 0755 "$stage/sbin/gitdisc-agent"
strip --strip-debug "$stage/sbin/gitdisc-agent" 2>/dev/null || true

load_order=
for mf in "${modfiles[@]}"; do
  name=${mf%%:*}
  src=${mf#*:}
  case "$src" in
    *.ko.xz) xz -dc "$src" > "$stage/lib/modules/$name.ko" ;;
    *.ko.zst) zstd -qdc "$src" > "$stage/lib/modules/$name.ko" ;;
    *.ko.gz) gzip -dc "$src" > "$stage/lib/modules/$name.ko" ;;
    *) cp "$src" "$stage/lib/modules/$name.ko" ;;
  esac
  load_order="$load_order $name"
done

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

(cd "$stage" && find . -print0 | sort -z | cpio --null -o -H newc --quiet -R 0:0) |
  gzip -9n > "$out/initrd.img.tmp"
install -m 0644 "/boot/vmlinuz-$kver" "$out/vmlinuz.tmp"
chmod 0644 "$out/initrd.img.tmp"
mv "$out/initrd.img.tmp" "$out/initrd.img"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
echo "$kver" > "$out/kernel-version"
echo "$inputs" > "$out/inputs.sha256"
echo "build-guest.sh: built $out/{vmlinuz,initrd.img} (kernel $kver)"
