# The libvirt domain of gitdisc's tiny guest (Debian kernel + busybox initramfs
# + gitdisc-agent, built by the guest-image target), shared by the demo and the
# end-to-end tests. Source it, then:
#
#   guest_domain_xml NAME DIR LABELS CHANNEL [CDROM] > NAME.xml
#
# DIR holds vmlinuz and initrd.img (readable by QEMU) and receives the console
# log DIR/NAME.console.log; LABELS is a space-separated list of key=value
# written as gitdisc labels into <metadata> (DESIGN.md §3; "" for none);
# CHANNEL yes adds the org.gitdisc.agent.0 virtio-serial channel. The domain
# has one empty IDE CD-ROM (hdc; CDROM no leaves it out), no network and no
# disk, and runs under TCG.
guest_domain_xml() {
  local name=$1 dir=$2 labels=$3 channel=$4 cdrom=${5:-yes} kv metadata="" chan="" drive=""
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
  <memory unit='MiB'>192</memory>
  <vcpu>1</vcpu>
  $metadata
  <!-- no_timer_check: under TCG on a busy host the kernel's IO-APIC timer
       check can fail and panic; panic=1 reboots instead of hanging. -->
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$dir/vmlinuz</kernel>
    <initrd>$dir/initrd.img</initrd>
    <cmdline>console=ttyS0 quiet no_timer_check panic=1</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    $drive
    $chan
    <serial type='file'><source path='$dir/$name.console.log'/><target port='0'/></serial>
    <console type='file'><source path='$dir/$name.console.log'/><target type='serial' port='0'/></console>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}
