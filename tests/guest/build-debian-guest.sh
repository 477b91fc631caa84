#!/usr/bin/env bash
# Builds the Debian 12 systemd test guest from Debian's packages, or finds it
# in its cache (docs/agent.md, "The Debian systemd guest"):
#
#   DIR/rootfs.img    raw ext4 (sparse), made with `mke2fs -d` from a folder
#                     that mmdebstrap filled: systemd, udev, dbus, kmod and the
#                     project's own gitdisc-agent .deb, its unit enabled; the
#                     agent's ledger lives on this disk (/var/lib/gitdisc-agent)
#   DIR/vmlinuz       the host's Debian kernel (direct kernel boot, mode 0644)
#   DIR/initrd.img    busybox initramfs: loads the drivers (CD-ROM, virtio
#                     PCI/serial/blk, isofs, ext4, ACPI button, evdev), mounts
#                     root= (default /dev/vda) read-write and switch_roots to
#                     systemd
#   DIR/cmdline       the kernel command line to boot it with
#   DIR/packages.txt  "name version" of every package in the image
#
# Boot the image through a copy-on-write overlay (qemu-img create -f qcow2
# -F raw -b DIR/rootfs.img), so that the cached image stays pristine.
#
# Cache: CACHE_DIR/debian-guest/<key>, where key digests this script,
# guest-lib.sh, the agent .deb's contents (file names, modes and bytes — not
# its timestamps), busybox, the kernel, the modules and the package list. The
# image records the versions it was built from (packages.txt); when the host's
# apt cache offers a newer version of any of them, the image is rebuilt. Other
# entries beyond the newest three are removed. A lock makes concurrent callers
# build once.
#
# Usage: build-debian-guest.sh AGENT_DEB [CACHE_DIR]   (as root)
#   CACHE_DIR defaults to $GITDISC_TEST_CACHE, else /var/cache/gitdisc-test.
# Prints the image folder on the last line of stdout; progress on stderr.
set -euo pipefail

deb=$(readlink -f "${1:?usage: build-debian-guest.sh AGENT_DEB [CACHE_DIR]}")
cache=${2:-${GITDISC_TEST_CACHE:-/var/cache/gitdisc-test}}/debian-guest
suite=bookworm
# systemd + systemd-sysv: init, and reboot/poweroff. udev: device units, and
# the agent's udev rule. dbus: systemd-logind needs the system bus, and logind
# turns the ACPI power button (virsh reboot / shutdown) into a clean reboot.
# kmod: modprobe for systemd's modprobe@ units (the initramfs loads drivers).
packages=(systemd systemd-sysv udev dbus kmod)
# Drivers loaded by the initramfs, in load order: those of the busybox guest
# (virtio_blk among them), then ext4 and what it needs for the root disk, and
# the ACPI power button with evdev, which logind listens on.
initrd_modules=(crc16 mbcache jbd2 crc32c_generic ext4 button evdev)

lib=$(dirname "$(readlink -f "$0")")/guest-lib.sh
# shellcheck source-path=SCRIPTDIR source=guest-lib.sh
source "$lib"
log() { echo "build-debian-guest.sh: $*" >&2; }
fail() { log "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "run as root (mmdebstrap --mode=root, image ownership)"
[ -f "$deb" ] || fail "no agent package at $deb"
command -v mmdebstrap >/dev/null || fail "mmdebstrap is needed (scripts/install-deps.sh)"
guest_find_busybox || exit 1
guest_find_kernel || exit 1
kver=$guest_kver
guest_find_modules "${guest_base_modules[@]}" "${initrd_modules[@]}" || exit 1

# The .deb's contents, not the file: CPack stamps build times into it.
deb_digest() {
  local t
  t=$(mktemp -d)
  dpkg-deb -x "$deb" "$t/data" && dpkg-deb -e "$deb" "$t/control"
  (cd "$t" && find . -printf '%p %m %l\n' | LC_ALL=C sort &&
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
  rm -rf "$t"
}
key=$( {
  guest_inputs_digest "$(readlink -f "$0")" "$lib" "$guest_busybox" "/boot/vmlinuz-$kver" \
    "${guest_modfiles[@]#*:}"
  deb_digest
  echo "$suite ${packages[*]}"
} | sha256sum | cut -c1-16)
dir=$cache/$key

# Fresh unless the host's apt cache offers a newer version of a package the
# image holds (a host without apt lists knows no candidate: the image stands).
newer_in_apt_cache() {
  local name have cand
  while read -r name cand; do
    have=$(awk -v n="$name" '$1 == n || $1 == n":amd64" {print $2; exit}' "$dir/packages.txt")
    if [ -z "$have" ] || [ "$cand" = "(none)" ]; then continue; fi
    if dpkg --compare-versions "$cand" gt "$have"; then
      log "apt cache offers $name $cand (image has $have)"
      return 0
    fi
  done < <(
    # shellcheck disable=SC2046  # one word per package name
    apt-cache policy $(cut -d' ' -f1 "$dir/packages.txt") 2>/dev/null |
      awk '/^[^ ].*:$/ {sub(/:$/, ""); name = $0} /^  Candidate:/ {print name, $2}')
  return 1
}
usable() { [ -f "$dir/ready" ] && ! newer_in_apt_cache; }

mkdir -p "$cache"
chmod 0755 "$cache" "$(dirname "$cache")"
exec 9> "$cache/.lock"
flock 9
if usable; then
  touch "$dir"   # recently used: kept by the pruning below
  log "cached: $dir (kernel $kver)"
  echo "$dir"
  exit 0
fi

started=$SECONDS
# Only the lock holder builds: any other build folder is a killed builder's.
rm -rf "$cache"/.build-*
tmp=$cache/.build-$key-$$
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"
root=$tmp/root
log "building the image in $tmp (mmdebstrap $suite: ${packages[*]} + $(basename "$deb"))"
# --variant=essential: only Essential:yes packages plus ours (no apt in the
# image). merged-usr: /usr merged by the hook instead of the usrmerge package,
# which would pull in perl. Documentation, man pages and translations are not
# unpacked. unsafe-io: no fsync per file; the image is written once below.
# The agent .deb is installed by dpkg inside the chroot; its postinst skips
# systemctl/udevadm when systemd is not running, so the unit is enabled here.
# shellcheck disable=SC2016  # the hooks' $1 (the root folder) is mmdebstrap's
mmdebstrap --mode=root --variant=essential --include="$(IFS=,; echo "${packages[*]}")" \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --dpkgopt=force-unsafe-io \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-include=/usr/share/doc/gitdisc-agent/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook="cp '$deb' \"\$1/tmp/gitdisc-agent.deb\"" \
  --customize-hook='chroot "$1" dpkg -i /tmp/gitdisc-agent.deb' \
  --customize-hook='rm "$1/tmp/gitdisc-agent.deb"' \
  --customize-hook='chroot "$1" systemctl enable gitdisc-agent.service' \
  --customize-hook="chroot \"\$1\" dpkg-query -W -f '\${Package} \${Version}\n' > '$tmp/packages.txt'" \
  "$suite" "$root" > "$tmp/mmdebstrap.log" 2>&1 ||
  { tail -n 40 "$tmp/mmdebstrap.log" >&2; fail "mmdebstrap failed (log above)"; }
mmdebstrap_seconds=$((SECONDS - started))

# The guest's configuration, written directly into the folder.
echo gitdisc-debian > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tgitdisc-debian\n' > "$root/etc/hosts"
# Mounted read-write by the initramfs; no fsck (e2fsprogs is not in the image,
# and every VM boots a fresh overlay).
printf '/dev/vda\t/\text4\trw,relatime\t0\t0\n' > "$root/etc/fstab"
# root logs in on the serial console without a password: a test image, for
# people who boot it by hand (docs/agent.md).
sed -i 's/^root:[^:]*:/root::/' "$root/etc/shadow"
# The agent's log on the serial console too, where the tests read it (the
# unit of the package logs to the journal only).
mkdir -p "$root/etc/systemd/system/gitdisc-agent.service.d"
cat > "$root/etc/systemd/system/gitdisc-agent.service.d/10-test-console.conf" <<'UNIT'
# Test image only (tests/guest/build-debian-guest.sh): the agent's stderr also
# on the serial console, where the tests look for "gitdisc-agent: listening".
[Service]
StandardOutput=journal+console
StandardError=journal+console
UNIT
# Boot time under TCG: every unit costs a process or two. The journal stays in
# RAM (no flush to disk on the way to sysinit.target: the console has it all);
# units with nothing to do in this guest are masked — the pseudo filesystems
# nobody uses here, modprobe@ (the initramfs loaded the drivers), utmp, the
# getty on the absent VGA console, and the daily/weekly timers.
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' > "$root/etc/systemd/journald.conf.d/10-test-volatile.conf"
for unit in dev-hugepages.mount dev-mqueue.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
            sys-fs-fuse-connections.mount sys-kernel-config.mount modprobe@.service \
            systemd-modules-load.service systemd-update-utmp.service \
            systemd-update-utmp-runlevel.service getty@tty1.service systemd-pstore.service \
            dpkg-db-backup.timer fstrim.timer systemd-tmpfiles-clean.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
# No first-boot preset run and no random machine id per build: one fixed id.
echo 5c0a1e0f9d2b4c7e8a6f3b2d1c0e9f8a > "$root/etc/machine-id"
rm -rf "$root/var/cache/"*/* "$root/var/log/"*.log "$root/tmp/"*

# The disk: the folder's size plus room for payloads and the journal.
size_mib=$(( $(du -sm "$root" | cut -f1) + 192 ))
truncate -s "${size_mib}M" "$tmp/rootfs.img"
mke2fs -q -F -t ext4 -m 0 -L gitdisc-root -d "$root" "$tmp/rootfs.img" \
  || fail "mke2fs -d failed"

# The initramfs: busybox, the drivers, and an /init that hands over to systemd.
stage=$tmp/initrd
mkdir -p "$stage"/{bin,dev,proc,sys,newroot}
cp "$guest_busybox" "$stage/bin/busybox"
guest_stage_modules "$stage"
cat > "$stage/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in$guest_load_order; do
  insmod /lib/modules/\$m.ko || echo "gitdisc-initrd: insmod \$m failed"
done
root=/dev/vda
for arg in \$(cat /proc/cmdline); do
  case \$arg in root=*) root=\${arg#root=} ;; esac
done
i=0
while [ ! -b "\$root" ] && [ \$i -lt 200 ]; do sleep 0.1; i=\$((i + 1)); done
if ! mount -t ext4 -o rw,relatime "\$root" /newroot; then
  echo "gitdisc-initrd: cannot mount \$root; powering off"
  poweroff -f
fi
echo "gitdisc-initrd: \$root mounted, starting systemd"
mount --move /dev /newroot/dev
umount /sys /proc
exec switch_root /newroot /sbin/init
INIT
chmod 0755 "$stage/init"
guest_pack_initrd "$stage" "$tmp/initrd.img"
install -m 0644 "/boot/vmlinuz-$kver" "$tmp/vmlinuz"
# loglevel=4: kernel warnings only, systemd's status lines stay readable.
# systemd.log_color=0: plain "[  OK  ] Started …" lines in the console log.
# systemd.getty_auto=0: no login prompt on ttyS0 — while a getty holds the
# console, systemd prints no status lines, and the tests read them. (Drop it
# to log in as root, no password, on an interactive serial console.)
echo "console=ttyS0 no_timer_check panic=1 root=/dev/vda loglevel=4 systemd.log_color=0" \
  "systemd.getty_auto=0" > "$tmp/cmdline"
echo "$kver" > "$tmp/kernel-version"
rm -rf "$root" "$stage"
chmod 0644 "$tmp/rootfs.img" "$tmp/initrd.img"
chmod 0755 "$tmp"
echo "mmdebstrap ${mmdebstrap_seconds}s, total $((SECONDS - started))s" > "$tmp/build-time"

rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
touch "$dir/ready"
# Keep the newest three images (other worktrees may use other agents).
ls -1td "$cache"/*/ 2>/dev/null | tail -n +4 | while read -r old; do rm -rf "$old"; done
log "built $dir in $((SECONDS - started))s (mmdebstrap ${mmdebstrap_seconds}s; $(du -sm --apparent-size "$dir/rootfs.img" | cut -f1) MiB disk, $(du -sm "$dir/rootfs.img" | cut -f1) MiB used)"
echo "$dir"
