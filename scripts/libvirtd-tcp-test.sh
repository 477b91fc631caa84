#!/usr/bin/env bash
# TEST ONLY: makes the local libvirtd also listen on TCP 127.0.0.1:16509 with
# no authentication, so `qemu+tcp://127.0.0.1/system` exercises gitdisc's
# remote delivery path (storage pool upload) on a single machine. It never
# listens on anything but 127.0.0.1. Needs root. Idempotent: does nothing when
# qemu+tcp://127.0.0.1/system already answers.
#
# How (Debian 12, libvirt 9.0, no systemd): libvirtd honours listen_tcp,
# listen_addr and auth_tcp only when started with --listen; with --listen it
# would also start TLS (listen_tls defaults to 1) and fail without
# certificates, so listen_tls is set to 0. The settings go into a copy of
# /etc/libvirt/libvirtd.conf (/etc/libvirt/libvirtd-gitdisc-tcp.conf) that
# libvirtd is started with (-f), so the system's own file stays untouched.
#
# Restarting libvirtd drops every client connection (running domains keep
# running and libvirtd reattaches to them). So when libvirtd is already
# running without TCP, the script refuses unless given --restart; on a CI
# machine run it before any test starts. Tests in this repository do not need
# it: they reach the running daemon through a loopback proxy
# (tests/support/tcp_proxy.h, qemu+tcp://127.0.0.1:PORT/system).
set -euo pipefail

TCP_URI="qemu+tcp://127.0.0.1/system"
CONF=/etc/libvirt/libvirtd-gitdisc-tcp.conf
PIDFILE=/run/libvirtd.pid
restart=0
[ "${1:-}" = "--restart" ] && restart=1

if [ "$(id -u)" -ne 0 ]; then
  echo "libvirtd-tcp-test.sh: run as root" >&2
  exit 2
fi
if virsh -c "$TCP_URI" version >/dev/null 2>&1; then
  exit 0
fi

# The system config without our keys, then ours.
grep -vE '^[[:space:]]*(listen_tls|listen_tcp|listen_addr|auth_tcp|tcp_port)[[:space:]]*=' \
  /etc/libvirt/libvirtd.conf >"$CONF.tmp"
cat >>"$CONF.tmp" <<'CONF'

# --- gitdisc TEST ONLY (scripts/libvirtd-tcp-test.sh): TCP on loopback, no auth ---
listen_tls = 0
listen_tcp = 1
listen_addr = "127.0.0.1"
tcp_port = "16509"
auth_tcp = "none"
CONF
mv "$CONF.tmp" "$CONF"

if [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  if [ "$restart" -ne 1 ]; then
    echo "libvirtd-tcp-test.sh: libvirtd (pid $(cat "$PIDFILE")) runs without TCP;" \
         "rerun with --restart to restart it with $CONF (drops client connections)" >&2
    exit 1
  fi
  pid="$(cat "$PIDFILE")"
  kill -TERM "$pid"
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "libvirtd-tcp-test.sh: libvirtd (pid $pid) did not stop" >&2
    exit 1
  fi
fi

pgrep -x virtlogd >/dev/null || virtlogd -d
libvirtd -d --listen -f "$CONF"
for _ in $(seq 1 100); do
  if virsh -c qemu:///system version >/dev/null 2>&1 &&
     virsh -c "$TCP_URI" version >/dev/null 2>&1; then
    # Refuse to leave anything listening beyond loopback.
    if ss -ltnH 'sport = :16509' | awk '{print $4}' | grep -vq '^127\.0\.0\.1:'; then
      echo "libvirtd-tcp-test.sh: port 16509 is bound beyond 127.0.0.1" >&2
      exit 1
    fi
    echo "libvirtd-tcp-test.sh: libvirtd listens on $TCP_URI (no auth, loopback only)"
    exit 0
  fi
  sleep 0.1
done
echo "libvirtd-tcp-test.sh: $TCP_URI does not answer after 10 s" >&2
exit 1
