#!/usr/bin/env bash
# Builds gitdisc-vcsim (tests/vsphere/vcsim/main.go: govmomi's vCenter
# simulator serving the default VPX model on loopback with TLS) from Debian's
# golang-github-vmware-govmomi-dev with Debian's golang-go, offline: GOPATH is
# /usr/share/gocode (where Debian installs Go sources) and modules are off, so
# nothing is downloaded.
#
# Usage: build-vcsim.sh OUT_DIR
# Writes OUT_DIR/gitdisc-vcsim. The build is cached: OUT_DIR/inputs.key holds
# the package versions and the source digest it was built from, and a second
# run with the same inputs does nothing (CI builds it once per build tree).
set -euo pipefail
out=${1:?usage: build-vcsim.sh OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
gopath=/usr/share/gocode
sim=$gopath/src/github.com/vmware/govmomi/simulator

if ! command -v go >/dev/null; then
  echo "build-vcsim.sh: no 'go' (install golang-go: scripts/install-deps.sh)" >&2
  exit 2
fi
if [ ! -d "$sim" ]; then
  echo "build-vcsim.sh: $sim is missing (install golang-github-vmware-govmomi-dev: scripts/install-deps.sh)" >&2
  exit 2
fi

version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }
key="govmomi=$(version golang-github-vmware-govmomi-dev) uuid=$(version golang-github-google-uuid-dev) go=$(go env GOVERSION) main=$(sha256sum "$here/vcsim/main.go" | cut -c1-64)"

mkdir -p "$out"
out=$(cd "$out" && pwd)  # go wants an absolute GOCACHE
if [ -x "$out/gitdisc-vcsim" ] && [ "$(cat "$out/inputs.key" 2>/dev/null)" = "$key" ]; then
  exit 0
fi
echo "build-vcsim.sh: building gitdisc-vcsim ($key)"
rm -f "$out/inputs.key"
# A private copy of main.go: `go build` of a directory outside GOPATH works
# with modules off, and the build cache stays inside the build tree.
mkdir -p "$out/src"
cp "$here/vcsim/main.go" "$out/src/main.go"
(cd "$out/src" &&
  GOPATH=$gopath GO111MODULE=off GOFLAGS= GOPROXY=off GOCACHE="$out/gocache" CGO_ENABLED=0 \
    go build -o "$out/gitdisc-vcsim.tmp" .)
mv "$out/gitdisc-vcsim.tmp" "$out/gitdisc-vcsim"
echo "$key" > "$out/inputs.key"
