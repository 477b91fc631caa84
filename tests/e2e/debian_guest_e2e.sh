#!/usr/bin/env bash
# The Debian 12 systemd guest (tests/guest/build-debian-guest.sh) on real
# libvirtd and QEMU (TCG), driven by the real gitdisc binary:
#
#   1. The image is built from Debian's packages or found in its cache; one
#      VM boots it from a qcow2 overlay; systemd starts gitdisc-agent.service
#      (its own status line on the serial console) and the agent listens.
#   2. `gitdisc reconcile` applies a payload from a Git repo. The payload
#      reports from inside the guest: the agent unit is active and wanted by
#      its virtio-serial device (the udev rule's SYSTEMD_WANTS), the CD-ROM's
#      udev properties after the media change carry the rule's UDISKS_IGNORE,
#      the ledger's folder is on the ext4 root disk, and the unit's
#      Documentation= file exists.
#   3. `virsh reboot` (ACPI power button → logind → systemd stops the agent,
#      then libvirt resets the VM); systemd starts the agent again.
#   4. The ledger came back from disk: diff says in sync (exit 0), a second
#      reconcile inserts nothing, and the payload's marker is on the console
#      exactly once across both boots.
#
# Usage: debian_guest_e2e.sh GITDISC_BINARY GUEST_DIR SOURCE_DIR BUILD_DIR   (as root)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
e2e_setup "$@"
build=${4:?usage: debian_guest_e2e.sh GITDISC_BINARY GUEST_DIR SOURCE_DIR BUILD_DIR}
t_start=$SECONDS

debian_guest_setup "$build"
echo "# Debian guest image ready in ${debian_setup_seconds}s: $debian_image"
image_stat() { stat -c '%U:%G %a %s %Y' "$debian_image"; }
image_before=$(image_stat)
vm="gitdisc-test-$$-debian"
t_boot=$SECONDS
define_debian_vm "$vm" app
check "$vm: systemd started gitdisc-agent.service" \
  wait_console "$vm" "Started gitdisc-agent.service" 1 600
check "$vm: the agent listens on its port" \
  wait_console "$vm" "gitdisc-agent: listening on /dev/vport" 1 120
boot_seconds=$((SECONDS - t_boot))
echo "# boot to the agent listening: ${boot_seconds}s"

repo="$work/repo"
tool_repo "$repo" ""
# The payload: its marker, then what systemd and udev did, as the guest sees it.
# shellcheck disable=SC2016  # expanded by the guest's shell
tool_version 1 '
{
  echo "gitdisc-payload tool v1 installed"
  echo "probe: unit $(systemctl show -p ActiveState --value gitdisc-agent.service)" \
    "wanted-by $(systemctl show -p WantedBy --value gitdisc-agent.service)"
  udevadm settle --timeout=10 || true
  echo "probe: sr0 $(udevadm info -q property -n /dev/sr0 | grep -E "^(ID_FS_LABEL|UDISKS_IGNORE)=" | tr "\n" " ")"
  echo "probe: state-dir $(findmnt -n -o SOURCE,FSTYPE -T /var/lib/gitdisc-agent)"
  doc=$(systemctl show -p Documentation --value gitdisc-agent.service)
  test -f "${doc#file://}" && echo "probe: documentation $doc present"
} > /dev/console 2>&1'
git -C "$repo" add -A
git -C "$repo" commit -qm "tool v1"
common=(--repo "$repo" --connect "$uri" --state-dir "$work/state")

# 2. Apply.
t_hello=$SECONDS
check "diff before the first reconcile exits 1 (tool pending)" run_gitdisc 1 diff1.log diff "${common[@]}"
echo "# first diff (hello + ledger over the channel): $((SECONDS - t_hello))s"
check "reconcile applies the payload (exit 0)" \
  run_gitdisc 0 reconcile1.log reconcile "${common[@]}" --timeout 10m
check "$vm: payload marker once" test "$(console_count "$vm" "gitdisc-payload tool v1 installed")" -eq 1
check "$vm: the agent unit is active and wanted by its virtio-serial device (udev rule)" \
  grep -aqE "probe: unit active wanted-by .*\.device" "$work/$vm.console.log"
check "$vm: the udev rule marked the inserted gitdisc disc UDISKS_IGNORE=1" \
  grep -aqE "probe: sr0 .*ID_FS_LABEL=GITDISC_.*UDISKS_IGNORE=1" "$work/$vm.console.log"
check "$vm: the ledger lives on the ext4 root disk" \
  grep -aqE "probe: state-dir /dev/vda +ext4" "$work/$vm.console.log"
check "$vm: the unit's Documentation= file is installed" \
  grep -aq "probe: documentation file:///usr/share/doc/gitdisc-agent/agent.md present" \
  "$work/$vm.console.log"
check "$vm: drive empty after reconcile" drive_empty "$vm"

# 3. A graceful reboot. virsh reboot presses the ACPI power button; logind
# acts on it, so a press before logind watches the button would be lost.
check "$vm: systemd-logind runs (it turns the power button into a shutdown)" \
  wait_console "$vm" "Started systemd-logind.service" 1 300
t_reboot=$SECONDS
check "virsh reboot is accepted" virsh -q -c "$uri" reboot "$vm"
check "$vm: systemd stopped the agent on the way down" \
  wait_console "$vm" "Stopped gitdisc-agent.service" 1 300
check "$vm: systemd started the agent again after the reboot" \
  wait_console "$vm" "Started gitdisc-agent.service" 2 600
check "$vm: the agent listens again" \
  wait_console "$vm" "gitdisc-agent: listening on /dev/vport" 2 120
reboot_seconds=$((SECONDS - t_reboot))
echo "# reboot to the agent listening again: ${reboot_seconds}s"

# 4. The ledger from disk.
check "diff after the reboot exits 0 (the ledger says tool v1 is applied)" \
  run_gitdisc 0 diff2.log diff "${common[@]}"
check "reconcile after the reboot exits 0" \
  run_gitdisc 0 reconcile2.log reconcile "${common[@]}" --timeout 10m
check "reconcile after the reboot inserts nothing" bash -c "! grep -q ' insert ' '$work/reconcile2.log'"
check "$vm: payload marker still exactly once across the reboot" \
  test "$(console_count "$vm" "gitdisc-payload tool v1 installed")" -eq 1

check "the cached image is untouched (owner, mode, size, mtime): $image_before" \
  test "$(image_stat)" = "$image_before"

if [ "$failures" -ne 0 ]; then
  echo "---- $vm serial console (tail) ----"
  tail -n 150 "$work/$vm.console.log"
  echo "---- end ----"
fi
echo "# times: image ${debian_setup_seconds}s, boot ${boot_seconds}s, reboot ${reboot_seconds}s, total $((SECONDS - t_start))s"
e2e_finish
