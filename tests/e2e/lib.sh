# Shell helpers shared by the end-to-end scripts (fleet_e2e.sh,
# rollout_e2e.sh): a scratch folder, real libvirt domains booting the test
# guest, checks that count and report, and gitdisc runs with an expected exit
# code. Source it first thing, then call e2e_setup "$@".
#
# Everything a script creates is removed on exit (domains it defined, storage
# volumes it registered, the scratch folder), also when a check fails or the
# script is killed; nothing else on the host is touched.

# shellcheck source=../../scripts/guest-domain.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/guest-domain.sh"

e2e_domains=()
e2e_volumes=()   # "pool volume" pairs to delete on exit
checks=0
failures=0

e2e_cleanup() {
  local vm v
  for vm in "${e2e_domains[@]}"; do
    virsh -q -c "$uri" destroy "$vm" >/dev/null 2>&1 || true
    virsh -q -c "$uri" undefine "$vm" >/dev/null 2>&1 || true
  done
  for v in "${e2e_volumes[@]}"; do
    # shellcheck disable=SC2086  # "pool volume"
    virsh -q -c "$uri" vol-delete --pool $v >/dev/null 2>&1 || true
  done
  if declare -F e2e_extra_cleanup >/dev/null; then e2e_extra_cleanup; fi
  rm -rf "$work"
}

# e2e_setup GITDISC_BINARY GUEST_DIR SOURCE_DIR: the usage every script
# shares. Sets $gitdisc, $src and $uri (qemu:///system), makes sure libvirtd
# runs, makes the scratch folder $work (readable by QEMU) with the guest's
# kernel and initrd, and cleans up on exit.
e2e_setup() {
  gitdisc=${1:?usage: $0 GITDISC_BINARY GUEST_DIR SOURCE_DIR}
  local guest_dir=${2:?guest image dir}
  src=${3:?source dir}
  uri=qemu:///system
  bash "$src/scripts/start-libvirtd.sh"
  work=$(mktemp -d /tmp/gitdisc-e2e-XXXXXX)
  chmod 0755 "$work"
  trap e2e_cleanup EXIT
  trap "exit 143" TERM INT  # so that the EXIT trap cleans up after a kill too
  install -m 0644 "$guest_dir/vmlinuz" "$work/vmlinuz"
  install -m 0644 "$guest_dir/initrd.img" "$work/initrd.img"
  export GIT_AUTHOR_NAME=e2e GIT_AUTHOR_EMAIL=e2e@gitdisc.invalid
  export GIT_COMMITTER_NAME=e2e GIT_COMMITTER_EMAIL=e2e@gitdisc.invalid
}

check() {  # description, then a command that must succeed
  local what=$1
  shift
  checks=$((checks + 1))
  if "$@"; then
    echo "ok   - $what"
  else
    echo "FAIL - $what"
    failures=$((failures + 1))
  fi
}

# define_vm NAME ROLE(or "") CHANNEL(yes/no) [CDROM(yes/no)]: defines and
# starts a persistent guest (scripts/guest-domain.sh) with the label
# role=ROLE, the agent channel if asked and the CD-ROM hdc unless told not
# to; its console is in $work/NAME.console.log.
define_vm() {
  local name=$1 role=$2 channel=$3 cdrom=${4:-yes}
  guest_domain_xml "$name" "$work" "${role:+role=$role}" "$channel" "$cdrom" > "$work/$name.xml"
  e2e_domains+=("$name")
  virsh -q -c "$uri" define "$work/$name.xml" >/dev/null
  virsh -q -c "$uri" start "$name" >/dev/null
}

# debian_guest_setup BUILD_DIR: the Debian 12 systemd guest for this script.
# Packs the agent .deb with CPack (from BUILD_DIR), builds the image or finds
# it in its cache (tests/guest/build-debian-guest.sh; $GITDISC_TEST_CACHE,
# default /var/cache/gitdisc-test), and copies its kernel, initrd and cmdline
# into $work/debian. Sets $debian_image (the cached rootfs.img, never written:
# every VM gets its own overlay) and $debian_setup_seconds.
debian_guest_setup() {
  local build=${1:?build dir} t0=$SECONDS dir
  mkdir -p "$work/deb" "$work/debian"
  # Only the agent's package (the controller's would cost 15 s of shlibdeps).
  if ! (cd "$build" && cpack -G DEB -D CPACK_COMPONENTS_ALL=agent -B "$work/deb") \
      > "$work/cpack.log" 2>&1; then
    cat "$work/cpack.log"
    echo "cpack failed"
    return 1
  fi
  dir=$("$src/tests/guest/build-debian-guest.sh" "$work/deb"/gitdisc-agent_*_amd64.deb | tail -n1)
  install -m 0644 "$dir/vmlinuz" "$dir/initrd.img" "$dir/cmdline" "$work/debian/"
  debian_image=$dir/rootfs.img
  debian_setup_seconds=$((SECONDS - t0))
}

# define_debian_vm NAME ROLE(or ""): defines and starts a persistent Debian
# guest (after debian_guest_setup) on a fresh qcow2 overlay of $debian_image,
# with the agent channel and the label role=ROLE; its console is in
# $work/NAME.console.log, as for define_vm.
define_debian_vm() {
  local name=$1 role=$2 disk=$work/debian/$1.qcow2
  qemu-img create -q -f qcow2 -F raw -b "$debian_image" "$disk"
  chmod 0644 "$disk"
  guest_domain_xml "$name" "$work" "${role:+role=$role}" yes yes "$disk" > "$work/$name.xml"
  e2e_domains+=("$name")
  virsh -q -c "$uri" define "$work/$name.xml" >/dev/null
  virsh -q -c "$uri" start "$name" >/dev/null
}

# wait_console VM TEXT COUNT SECONDS: waits until VM's console holds COUNT
# lines containing TEXT; fails (status 1) after SECONDS.
wait_console() {
  local deadline=$((SECONDS + $4))
  while [ "$(console_count "$1" "$2")" -lt "$3" ]; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

# wait_agent VM: waits (up to 5 minutes) until the agent in VM listens, and
# records that as a check.
wait_agent() {
  local _
  for _ in $(seq 1 600); do
    grep -aq "gitdisc-agent: listening" "$work/$1.console.log" 2>/dev/null && break
    sleep 0.5
  done
  check "$1: agent started in the guest" grep -aq "gitdisc-agent: listening" "$work/$1.console.log"
}

console_count() {  # vm, text → number of console lines containing text
  grep -ac "$2" "$work/$1.console.log" || true
}

drive_empty() {  # vm → the CD-ROM drive hdc holds no media
  [ "$(virsh -q -c "$uri" domblklist "$1" | awk '$1 == "hdc" {print $2}')" = "-" ]
}

# run_gitdisc EXPECTED-EXIT LOG-NAME ARGS...: runs $gitdisc, output in
# $work/LOG-NAME; prints the output when the exit code is not the expected one.
run_gitdisc() {
  local want=$1 log=$2 rc=0
  shift 2
  "$gitdisc" "$@" > "$work/$log" 2>&1 || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "gitdisc $* exited $rc, expected $want; output:"
    sed 's/^/    /' "$work/$log"
    return 1
  fi
}

# The one-payload fleet of rollout_e2e.sh, serve_e2e.sh and faults_e2e.sh:
# tool_repo DIR ROLLOUT makes a Git repository in DIR (branch main) with the
# PayloadSet `app` — VMs labelled role=app whose names are this script's
# gitdisc-test-PID-* — and its payload `tool`; ROLLOUT is the set's rollout
# mapping ("" for the defaults). tool_version VERSION SCRIPT-BODY rewrites
# the payload (install.sh = "#!/bin/sh" + SCRIPT-BODY) at that version;
# commit it with git -C DIR.
tool_repo() {
  tool_dir=$1
  mkdir -p "$tool_dir/payloads/tool"
  cat > "$tool_dir/app.yaml" <<YAML
apiVersion: gitdisc/v1
kind: PayloadSet
metadata: {name: app}
spec:
  selector:
    matchLabels: {role: app}
    names: ["gitdisc-test-$$-*"]
  payloads:
    - {name: tool, version: "0", path: payloads/tool, run: ["./install.sh"], timeout: 1m}
${2:+  rollout: $2}
YAML
  git -C "$tool_dir" -c init.defaultBranch=main init -q
}
tool_version() {
  printf '#!/bin/sh\n%s\n' "$2" > "$tool_dir/payloads/tool/install.sh"
  chmod 0755 "$tool_dir/payloads/tool/install.sh"
  sed -i "s/version: \"[0-9]*\"/version: \"$1\"/" "$tool_dir/app.yaml"
}

# e2e_finish: the summary line and the script's exit status.
e2e_finish() {
  echo "$((checks - failures)) passed, $failures failed"
  [ "$failures" -eq 0 ]
}
