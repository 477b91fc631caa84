# shellcheck shell=bash
# Helpers shared by the guest builders (build-guest.sh: the busybox guest;
# build-debian-guest.sh: the Debian systemd guest). Source it; a function that
# fails says why on stderr (prefixed with the calling script's name) and
# returns non-zero.
#
#   guest_find_busybox           → $guest_busybox   (a static busybox)
#   guest_is_static FILE         → 0 when FILE has no program interpreter
#   guest_find_kernel            → $guest_kver      (newest /boot/vmlinuz-* with modules)
#   guest_find_modules NAME...   → $guest_modfiles  ("name:path", load order kept;
#                                   modules built into the kernel are left out)
#   guest_stage_modules DIR      copies $guest_modfiles into DIR/lib/modules/NAME.ko
#                                (decompressed) → $guest_load_order (" a b c")
#   guest_pack_initrd DIR OUT    gzip'd cpio (newc, root-owned) of DIR into OUT
#   guest_inputs_digest FILE...  one SHA-256 over the files' SHA-256s (stdout)

# The drivers of DESIGN.md §9, in load order (`virtio` needs `virtio_ring`
# first): CD-ROM on IDE, virtio PCI and the virtio-serial port, virtio-blk
# (a disc may come as a virtio disk too), isofs.
# shellcheck disable=SC2034  # used by the scripts that source this file
guest_base_modules=(scsi_common scsi_mod cdrom sr_mod libata ata_piix virtio_ring virtio
                    virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_console
                    virtio_blk isofs)

guest_find_busybox() {
  local cand
  guest_busybox=$(command -v busybox || true)
  for cand in /bin/busybox /usr/bin/busybox; do
    [ -x "$cand" ] && guest_busybox=$cand && break
  done
  if [ -z "$guest_busybox" ] || ! guest_is_static "$guest_busybox"; then
    echo "${0##*/}: a static busybox is needed (apt-get install busybox-static)" >&2
    return 1
  fi
}

# Static = no program interpreter (readelf is in binutils, part of build-essential).
guest_is_static() {
  local f
  f=$(readlink -f "$1")
  readelf -h "$f" >/dev/null 2>&1 && ! readelf -l "$f" | grep -q "program interpreter"
}

guest_find_kernel() {
  local k
  guest_kver=
  for k in $(ls /boot/vmlinuz-* 2>/dev/null | sed 's|/boot/vmlinuz-||' | sort -V -r); do
    if [ -d "/lib/modules/$k/kernel" ]; then guest_kver=$k; return 0; fi
  done
  echo "${0##*/}: no /boot/vmlinuz-* with /lib/modules (apt-get install linux-image-amd64)" >&2
  return 1
}

guest_find_modules() {
  local m f moddir=/lib/modules/$guest_kver/kernel
  guest_modfiles=()
  for m in "$@"; do
    f=$(find "$moddir" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" | head -n1)
    if [ -z "$f" ]; then
      # Built into this kernel: nothing to load.
      if grep -q "/$m.ko\$" "/lib/modules/$guest_kver/modules.builtin" 2>/dev/null; then continue; fi
      echo "${0##*/}: module $m not found under $moddir" >&2
      return 1
    fi
    guest_modfiles+=("$m:$f")
  done
}

guest_stage_modules() {
  local dir=$1 mf name src
  mkdir -p "$dir/lib/modules"
  guest_load_order=
  for mf in "${guest_modfiles[@]}"; do
    name=${mf%%:*}
    src=${mf#*:}
    case "$src" in
      *.ko.xz) xz -dc "$src" > "$dir/lib/modules/$name.ko" ;;
      *.ko.zst) zstd -qdc "$src" > "$dir/lib/modules/$name.ko" ;;
      *.ko.gz) gzip -dc "$src" > "$dir/lib/modules/$name.ko" ;;
      *) cp "$src" "$dir/lib/modules/$name.ko" ;;
    esac
    guest_load_order="$guest_load_order $name"
  done
}

guest_pack_initrd() {
  (cd "$1" && find . -print0 | sort -z | cpio --null -o -H newc --quiet -R 0:0) | gzip -9n > "$2"
}

guest_inputs_digest() {
  sha256sum "$@" | cut -d' ' -f1 | sha256sum | cut -d' ' -f1
}
