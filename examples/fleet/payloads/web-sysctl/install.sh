#!/bin/sh
# web-sysctl: installs and applies a sysctl drop-in for web servers.
#
# Runs on any Linux guest with a POSIX sh (busybox is enough). gitdisc's agent
# runs it with this payload folder as the working directory. EXAMPLE_ROOT
# (default: empty, i.e. /) lets tests install into a scratch folder instead.
set -eu
PAYLOAD=web-sysctl
VERSION=1
ROOT="${EXAMPLE_ROOT:-}"
cd "$(dirname "$0")"

# put SRC DEST: copies atomically, so a reader never sees half a file.
put() {
  mkdir -p "$(dirname "$2")"
  cp "$1" "$2.gitdisc-tmp"
  chmod 0644 "$2.gitdisc-tmp"
  mv -f "$2.gitdisc-tmp" "$2"
}

# Applies KEY = VALUE lines through /proc/sys; keys this kernel lacks are
# skipped (busybox `sysctl -p` would stop at the first one).
apply_sysctl() {
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'* | ';'*) continue ;; esac
    key=$(echo "${line%%=*}" | tr -d ' \t')
    value=$(echo "${line#*=}" | sed 's/^[ \t]*//; s/[ \t]*$//')
    file="/proc/sys/$(echo "$key" | tr . /)"
    if [ -w "$file" ]; then
      echo "$value" > "$file"
      echo "set $key = $value"
    else
      echo "skipped $key (not in this kernel)"
    fi
  done < "$1"
}

put 60-gitdisc-web.conf "$ROOT/etc/sysctl.d/60-gitdisc-web.conf"
if [ -z "$ROOT" ]; then
  apply_sysctl 60-gitdisc-web.conf
fi

# Leave a trace for people and for the end-to-end tests.
mkdir -p "$ROOT/var/lib/gitdisc-example"
echo "version=$VERSION" > "$ROOT/var/lib/gitdisc-example/$PAYLOAD.done"
msg="gitdisc-payload $PAYLOAD v$VERSION installed"
echo "$msg"
if [ -z "$ROOT" ]; then
  ( echo "$msg" > /dev/console ) 2>/dev/null || true
fi
