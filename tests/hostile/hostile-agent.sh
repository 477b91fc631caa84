#!/bin/sh
# The "agent" of a hostile test guest (tests/hostile/hostile_guests_e2e.sh):
# installed as /sbin/gitdisc-agent in place of the real one, so the guest's
# /init (tests/guest/build-guest.sh) starts it, and restarts it when it exits.
# The kernel command line's gitdisc.hostile=MODE says what it does on the
# org.gitdisc.agent.0 port; the attacks are those of
# tests/support/hostile_agent.h:
#   newline-flood         "\n" as fast as the host reads
#   junk-json-flood       well-formed JSON that is no message, as fast as it goes
#   endless-line          "x" without a newline, as fast as it goes
#   mute                  reads everything, answers nothing
#   event-flood-on-apply  a well-behaved agent until an apply, then progress
#                         events of that operation, as fast as they go
mode=$(sed -n 's/.*gitdisc\.hostile=\([a-z-]*\).*/\1/p' /proc/cmdline)
port=
while [ -z "$port" ]; do
  for n in /sys/class/virtio-ports/*/name; do
    if [ "$(cat "$n" 2>/dev/null)" = org.gitdisc.agent.0 ]; then
      port=/dev/$(basename "$(dirname "$n")")
    fi
  done
  [ -n "$port" ] && [ -e "$port" ] || { port=; sleep 0.2; }
done
echo "gitdisc-hostile: $mode on $port"
# The port opens once (a second open is refused): one descriptor, both ways.
exec 3<>"$port"
case $mode in
  newline-flood) yes '' >&3 ;;
  junk-json-flood) yes '{"junk":[1,2,3],"type":"nonsense"}' >&3 ;;
  endless-line) tr '\000' x </dev/zero >&3 ;;
  mute) cat <&3 >/dev/null ;;
  event-flood-on-apply) awk -f /sbin/hostile-agent.awk <&3 >&3 ;;
  *) echo "gitdisc-hostile: unknown mode '$mode'"; sleep 3600 ;;
esac
# The host went away (a write failed): the init loop starts us again.
exit 1
