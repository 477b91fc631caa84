# The libvirt domain of gitdisc's test guests, shared by the demo and the
# end-to-end tests. Source it, then:
#
#   guest_domain_xml NAME DIR LABELS CHANNEL [CDROM [DISK]] > NAME.xml
#
# DIR holds vmlinuz and initrd.img (readable by QEMU) and receives the console
# log DIR/NAME.console.log; LABELS is a space-separated list of key=value
# written as gitdisc labels into <metadata> (DESIGN.md §3; "" for none);
# CHANNEL yes adds the org.gitdisc.agent.0 virtio-serial channel. The domain
# has one empty IDE CD-ROM (hdc; CDROM no leaves it out), no network, and
# runs under TCG.
#
# Without DISK it is the tiny guest (Debian kernel + busybox initramfs +
# gitdisc-agent, built by the guest-image target): 192 MiB, no disk. With
# DISK (a qcow2 overlay of the Debian systemd guest's rootfs.img, built by
# tests/guest/build-debian-guest.sh) it is that guest: the disk as virtio vda,
# 512 MiB, ACPI (so virsh reboot/shutdown reach systemd through the power
# button), and the vmlinuz, initrd.img and cmdline from DISK's folder (the
# console log stays in DIR).
guest_domain_xml() {
  local name=$1 dir=$2 labels=$3 channel=$4 cdrom=${5:-yes} disk=${6:-} kv metadata="" chan=""
  local drive="" memory=192 features="" disk_xml=""
  local cmdline="console=ttyS0 quiet no_timer_check panic=1" boot=$dir backing backing_format
  if [ -n "$disk" ]; then
    boot=$(dirname "$disk")
    memory=512
    features="<features><acpi/></features>"
    # The image under the overlay is shared by every VM and stays root's:
    # libvirt must not chown it to the QEMU user (it does not chown it back).
    backing=$(qemu-img info -U --output=json "$disk" | jq -r '."full-backing-filename"')
    backing_format=$(qemu-img info -U --output=json "$disk" | jq -r '."backing-filename-format"')
    disk_xml="<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$disk'/>
      <backingStore type='file'><format type='$backing_format'/><source file='$backing'><seclabel model='dac' relabel='no'/></source><backingStore/></backingStore>
      <target dev='vda' bus='virtio'/></disk>"
    cmdline=$(cat "$boot/cmdline")
  fi
  if [ -n "$labels" ]; then
    metadata="<metadata><g:labels xmlns:g='urn:gitdisc:labels:1'>"
    for kv in $labels; do
      metadata+="<g:label key='${kv%%=*}' value='${kv#*=}'/>"
    done
    metadata+="</g:labels></metadata>"
  fi
  if [ "$channel" = yes ]; then
    chan="<channel type='unix'><target type='virtio' name='org.gitdisc.agent.0'/></channel>"
  fi
  if [ "$cdrom" = yes ]; then
    drive="<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
    drive+="<target dev='hdc' bus='ide'/><readonly/></disk>"
  fi
  cat <<XML
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>$memory</memory>
  <vcpu>1</vcpu>
  $metadata
  <!-- no_timer_check: under TCG on a busy host the kernel's IO-APIC timer
       check can fail and panic; panic=1 reboots instead of hanging. -->
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$boot/vmlinuz</kernel>
    <initrd>$boot/initrd.img</initrd>
    <cmdline>$cmdline</cmdline>
  </os>
  $features
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    $disk_xml
    $drive
    $chan
    <serial type='file'><source path='$dir/$name.console.log'/><target port='0'/></serial>
    <console type='file'><source path='$dir/$name.console.log'/><target type='serial' port='0'/></console>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}
