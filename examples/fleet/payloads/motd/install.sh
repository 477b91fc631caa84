#!/bin/sh
# motd: writes /etc/motd, naming the site given in $SITE.
#
# Runs on any Linux guest with a POSIX sh (busybox is enough). gitdisc's agent
# runs it with this payload folder as the working directory. EXAMPLE_ROOT
# (default: empty, i.e. /) lets tests install into a scratch folder instead.
set -eu
PAYLOAD=motd
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

SITE="${SITE:-gitdisc}"
mkdir -p "$ROOT/etc"
{
  printf 'Welcome to %s.\n\n' "$SITE"
  cat motd.txt
} > "$ROOT/etc/motd.gitdisc-tmp"
chmod 0644 "$ROOT/etc/motd.gitdisc-tmp"
mv -f "$ROOT/etc/motd.gitdisc-tmp" "$ROOT/etc/motd"

# Leave a trace for people and for the end-to-end tests.
mkdir -p "$ROOT/var/lib/gitdisc-example"
echo "version=$VERSION" > "$ROOT/var/lib/gitdisc-example/$PAYLOAD.done"
msg="gitdisc-payload $PAYLOAD v$VERSION installed"
echo "$msg"
if [ -z "$ROOT" ]; then
  ( echo "$msg" > /dev/console ) 2>/dev/null || true
fi
