#!/bin/sh
# nginx-config: installs an nginx site (server name and port from $SERVER_NAME, $LISTEN_PORT) and its page; reloads nginx if it runs.
#
# Runs on any Linux guest with a POSIX sh (busybox is enough). gitdisc's agent
# runs it with this payload folder as the working directory. EXAMPLE_ROOT
# (default: empty, i.e. /) lets tests install into a scratch folder instead.
set -eu
PAYLOAD=nginx-config
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

SERVER_NAME="${SERVER_NAME:-localhost}"
LISTEN_PORT="${LISTEN_PORT:-80}"
case "$LISTEN_PORT" in '' | *[!0-9]*) echo "LISTEN_PORT must be a number: $LISTEN_PORT" >&2; exit 1 ;; esac
case "$SERVER_NAME" in '' | *[!A-Za-z0-9.-]*) echo "SERVER_NAME is not a host name: $SERVER_NAME" >&2; exit 1 ;; esac

conf="$ROOT/etc/nginx/conf.d/gitdisc-example.conf"
mkdir -p "$(dirname "$conf")"
cat > "$conf.gitdisc-tmp" <<CONF
# Installed by gitdisc (payload $PAYLOAD v$VERSION). Do not edit: change Git.
server {
    listen $LISTEN_PORT;
    server_name $SERVER_NAME;
    root /var/www/gitdisc-example;
    index index.html;
    access_log /var/log/nginx/gitdisc-example.access.log;
    location / {
        try_files \$uri \$uri/ =404;
    }
}
CONF
chmod 0644 "$conf.gitdisc-tmp"
mv -f "$conf.gitdisc-tmp" "$conf"
put index.html "$ROOT/var/www/gitdisc-example/index.html"

if [ -z "$ROOT" ] && command -v nginx >/dev/null 2>&1; then
  nginx -t  # a broken configuration fails the payload (set -e)
  nginx -s reload 2>/dev/null || echo "nginx is not running; the site is ready for its next start"
fi

# Leave a trace for people and for the end-to-end tests.
mkdir -p "$ROOT/var/lib/gitdisc-example"
echo "version=$VERSION" > "$ROOT/var/lib/gitdisc-example/$PAYLOAD.done"
msg="gitdisc-payload $PAYLOAD v$VERSION installed"
echo "$msg"
if [ -z "$ROOT" ]; then
  ( echo "$msg" > /dev/console ) 2>/dev/null || true
fi
