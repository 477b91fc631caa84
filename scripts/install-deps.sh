#!/usr/bin/env bash
# Installs everything gitdisc's build, tests and demo need on Debian 12, as
# root. Idempotent: safe to run again; it only adds missing packages.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config git ca-certificates
  # compiler cache: the plain, ASan and fuzz builds and reruns share it (scripts/build.sh)
  ccache
  # libraries (DESIGN.md §2)
  libyaml-cpp-dev libgit2-dev libvirt-dev libisofs-dev libcdio-dev libiso9660-dev
  libcpp-httplib-dev libssl-dev nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev
  libxml2-dev
  # signed commits (docs/git-source.md): gpgme for OpenPGP signatures with gpg
  # behind it, ssh-keygen (-Y verify) for SSH signatures
  libgpgme-dev gnupg openssh-client
  # the daemon's Prometheus metrics registry and text format
  prometheus-cpp-dev
  # `unpack: true` artifacts (tar, zip)
  libarchive-dev
  # the static agent links against these archives
  libc6-dev
  # tests: independent ISO readers, a real hypervisor and a tiny guest
  xorriso genisoimage libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils
  linux-image-amd64 busybox-static cpio kmod
  # the Debian 12 systemd test guest, built from Debian's packages at test time
  # (tests/guest/build-debian-guest.sh; mke2fs -d is in e2fsprogs, always present)
  mmdebstrap
  # end-to-end scripts: JSON (jq), a loopback TCP endpoint for libvirtd (socat), HTTP (curl)
  jq socat curl
  # daemon tests: the status page in a headless browser; promtool (only
  # packaged inside the Prometheus server; its service is not started here)
  chromium prometheus
  # benchmarks (bench/guest): qemu-guest-agent copied into the bench guest
  qemu-guest-agent
  # the vSphere provider speaks SOAP over HTTPS (libcurl; libxml2 is above)
  libcurl4-openssl-dev
  # vSphere tests: govmomi's vCenter simulator, built offline from Debian's Go
  # sources of govmomi (tests/vsphere/build-vcsim.sh)
  golang-go golang-github-vmware-govmomi-dev
  # fuzzing (clang's libFuzzer)
  clang libclang-rt-dev
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: run as root (it installs Debian packages)" >&2
  exit 2
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install-deps.sh: all dependencies present"
