#!/usr/bin/env bash
# Builds the benchmark variant of the test guest (docs/benchmarks.md rows 4
# and 7): the normal test guest (tests/guest/build-guest.sh) plus Debian's
# qemu-guest-agent, so gitdisc's delivery can be measured against qemu-ga in
# the same guest. The normal test guest stays as it is:
#   OUT_DIR/vmlinuz     the test guest's kernel (copied)
#   OUT_DIR/initrd.img  the test guest's initramfs with a second gzip'd cpio
#                       archive appended (the kernel unpacks both): qemu-ga,
#                       the shared libraries `ldd` lists for it, and
#                       /init-bench, which starts qemu-ga on the port named
#                       org.qemu.guest_agent.0 once /init has loaded the
#                       virtio modules, then execs /init
#   OUT_DIR/cmdline     what to add to the kernel command line: rdinit=/init-bench
#
# Usage: build-bench-guest.sh TEST_GUEST_DIR OUT_DIR
# Needs: qemu-guest-agent (apt-get install qemu-guest-agent; scripts/install-deps.sh).
# Cached: rebuilt only when an input changes (OUT_DIR/inputs.sha256).
set -euo pipefail

base=${1:?usage: build-bench-guest.sh TEST_GUEST_DIR OUT_DIR}
out=${2:?usage: build-bench-guest.sh TEST_GUEST_DIR OUT_DIR}
qga=/usr/sbin/qemu-ga
if [ ! -x "$qga" ]; then
  echo "build-bench-guest.sh: $qga missing (apt-get install qemu-guest-agent)" >&2
  exit 1
fi
for f in vmlinuz initrd.img; do
  if [ ! -f "$base/$f" ]; then
    echo "build-bench-guest.sh: $base/$f missing (build the guest-image target first)" >&2
    exit 1
  fi
done

# The loader and every library qemu-ga needs, as resolved on this host.
libs=$(ldd "$qga" | awk '/=> \// {print $3} /^\t\/lib/ {print $1}' | sort -u)
script_path=$(readlink -f "$0")
inputs=$( {
  sha256sum "$base/vmlinuz" "$base/initrd.img" "$qga" "$script_path"
  for l in $libs; do sha256sum "$(readlink -f "$l")"; done
} | sha256sum | cut -d' ' -f1)

mkdir -p "$out"
if [ -f "$out/inputs.sha256" ] && [ "$(cat "$out/inputs.sha256")" = "$inputs" ] &&
   [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] && [ -f "$out/cmdline" ]; then
  echo "build-bench-guest.sh: $out is up to date"
  exit 0
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/usr/sbin"
cp "$qga" "$stage/usr/sbin/qemu-ga"
strip --strip-debug "$stage/usr/sbin/qemu-ga" 2>/dev/null || true
for l in $libs; do
  mkdir -p "$stage$(dirname "$l")"
  cp -L "$l" "$stage$l"
done

cat > "$stage/init-bench" <<'INIT'
#!/bin/busybox sh
# Benchmark guest: start qemu-ga beside the gitdisc agent. /init (exec'd
# below) mounts /sys and /dev and loads virtio_console; wait for the port.
# The shell opens /dev/null for a background job: make one until /init
# mounts devtmpfs over /dev.
/bin/busybox mknod /dev/null c 1 3 2>/dev/console || true
(
  bb=/bin/busybox
  for i in $($bb seq 1 600); do
    for n in /sys/class/virtio-ports/*/name; do
      [ -f "$n" ] || continue
      if [ "$($bb cat "$n")" = org.qemu.guest_agent.0 ]; then
        port=/dev/$($bb basename "$($bb dirname "$n")")
        $bb mkdir -p /run/qga
        echo "gitdisc-bench-guest: starting qemu-ga on $port" > /dev/console
        exec /usr/sbin/qemu-ga -m virtio-serial -p "$port" -t /run/qga \
          < /dev/null > /dev/console 2>&1
      fi
    done
    $bb usleep 100000
  done
  echo "gitdisc-bench-guest: no org.qemu.guest_agent.0 port" > /dev/console
) &
exec /init
INIT
chmod 0755 "$stage/init-bench"

cp "$base/initrd.img" "$out/initrd.img.tmp"
(cd "$stage" && find . -print0 | sort -z | cpio --null -o -H newc --quiet -R 0:0) |
  gzip -9n >> "$out/initrd.img.tmp"
chmod 0644 "$out/initrd.img.tmp"
install -m 0644 "$base/vmlinuz" "$out/vmlinuz.tmp"
mv "$out/initrd.img.tmp" "$out/initrd.img"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
echo "rdinit=/init-bench" > "$out/cmdline"
echo "$inputs" > "$out/inputs.sha256"
echo "build-bench-guest.sh: built $out/{vmlinuz,initrd.img} (test guest + qemu-ga)"
