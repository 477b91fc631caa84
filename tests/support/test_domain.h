// TestDomain: a small, real QEMU domain for integration tests, destroyed and
// undefined when the object goes away.
//
// What it builds (DESIGN.md §9): domain type 'qemu' (TCG, no KVM here), 192 MiB,
// 1 vCPU, machine 'pc', no network device, no graphics, one or two EMPTY IDE
// CD-ROM drives (hdc, hdd), optionally a root disk (a qcow2 overlay of a
// given image, e.g. the Debian systemd guest's) and ACPI, optionally the agent channel
// `org.gitdisc.agent.0` (unix-backed virtio-serial; libvirt picks the socket),
// gitdisc labels in <metadata> (urn:gitdisc:labels:1), and a serial console
// written to a file the test can read. With a kernel+initrd the guest boots
// them directly (console=ttyS0 plus extra cmdline); without, SeaBIOS idles
// (and does not reboot: rebootTimeout -1), which is enough for media,
// metadata, events and channel tests. Note SeaBIOS probes the CD-ROM trays
// during its first second or two; LibvirtProvider copes with that (see its
// tray repair), other code driving media right after start should too.
//
// Names are `gitdisc-test-<pid>-<counter>-<random>` so parallel test runs and
// leftovers never collide; ReapLeftoverTestDomains() removes domains whose
// creating process is gone.
//
// Files: each domain gets a private work directory under /tmp (mode 0755,
// traversable by the QEMU user libvirt-qemu) holding the console log,
// copies of the kernel and initrd (so the QEMU user can always read them,
// whatever the permissions of the caller's build tree) and the disk overlay
// (the image it is backed by is only read). It is removed with the domain.
//
// Thread-safety: a TestDomain is used by one thread at a time. The library
// (gitdisc_test_support) links libvirt; it is for tests only.
#ifndef GITDISC_TESTS_SUPPORT_TEST_DOMAIN_H_
#define GITDISC_TESTS_SUPPORT_TEST_DOMAIN_H_

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace gitdisc::test_support {

// Every member has a default, so designated initializers may name any subset
// (in declaration order): {.name_hint = "x", .persistent = true, .start = false}.
struct TestDomainOptions {
  std::string uri = "qemu:///system";
  // A word put into the name after the prefix, for people reading `virsh list`.
  std::string name_hint = {};
  // Persistent domains (defined, then started) survive a restart and keep
  // CONFIG metadata; transient ones (created) vanish when destroyed.
  bool persistent = false;
  // Start the domain at creation (a persistent domain may stay shut off).
  bool start = true;
  int memory_mib = 192;
  // 1 → hdc; 2 → hdc and hdd. All on the IDE bus.
  int cdrom_count = 1;
  // Optional initial media per drive, by index ("" = empty). Paths must be
  // readable by the QEMU user.
  std::vector<std::string> cdrom_sources = {};
  bool agent_channel = true;
  // Also the qemu-guest-agent channel org.qemu.guest_agent.0 (same kind:
  // unix-backed virtio-serial), for benchmarks against qemu-ga.
  bool qemu_guest_agent_channel = false;
  std::map<std::string, std::string> labels = {};
  // Direct kernel boot when both are set; copied into the work directory.
  std::string kernel = {};
  std::string initrd = {};
  // Appended to "console=ttyS0 no_timer_check panic=1".
  std::string cmdline_extra = {};
  // A disk image to boot from (tests/guest/build-debian-guest.sh's
  // rootfs.img; pass its cmdline file's root= and the rest as cmdline_extra):
  // the domain gets its own qcow2 overlay of it (qemu-img) as virtio vda, so
  // the image stays pristine; libvirt is told not to relabel (chown) it.
  // "" = no disk. Must be readable by the QEMU user as it is.
  std::string disk_backing = {};
  std::string disk_backing_format = "raw";
  // ACPI on, so that virDomainReboot/virDomainShutdown reach the guest as a
  // power-button press (systemd-logind acts on it); without it a systemd
  // guest cannot be rebooted gracefully.
  bool acpi = false;
};

class TestDomain {
 public:
  // Defines/creates (and, if asked, starts) the domain. Fails with the libvirt
  // error when libvirtd refuses; callers ASSERT on it.
  static Result<std::unique_ptr<TestDomain>> Create(const TestDomainOptions& options);
  // Destroys and undefines the domain (ignoring "already gone") and removes
  // the work directory.
  ~TestDomain();
  TestDomain(const TestDomain&) = delete;
  TestDomain& operator=(const TestDomain&) = delete;

  const std::string& name() const { return name_; }
  const std::string& uuid() const { return uuid_; }
  const std::string& uri() const { return uri_; }
  // The Provider's key for this VM: "<uri>/<uuid>".
  std::string key() const { return uri_ + "/" + uuid_; }
  const std::string& work_dir() const { return work_dir_; }
  const std::string& console_log_path() const { return console_log_; }

  // Everything the guest printed on its serial console so far ("" before the
  // file exists).
  std::string ConsoleText() const;
  // Polls the console log until a line containing `substring` appears.
  // kTimeout (with the log's tail in the message) when it does not.
  Status WaitForConsoleLine(std::string_view substring, std::chrono::milliseconds timeout) const;

  // The live (or, with inactive, the persistent) domain XML.
  Result<std::string> XmlDesc(bool inactive = false) const;
  // Whether libvirt reports the domain as running.
  Result<bool> IsRunning() const;

  // Lifecycle steps for tests that need them (restart, vanish mid-operation).
  Status Start();
  Status Destroy();
  // Removes the persistent definition (the running instance, if any, turns transient).
  Status Undefine();
  // Writes a file into the work directory (mode 0644) and returns its path;
  // handy for a small "foreign" ISO or any file the QEMU user must read.
  Result<std::string> WriteWorkFile(const std::string& name, std::string_view data) const;

 private:
  struct Conn;
  TestDomain() = default;
  std::unique_ptr<Conn> conn_;
  std::string uri_, name_, uuid_, work_dir_, console_log_;
};

// The domain XML TestDomain::Create would define (exposed for tests of it and
// for callers who want to tweak it). `paths` are already placed in work_dir;
// disk_path is the overlay ("" = no disk).
std::string BuildTestDomainXml(const TestDomainOptions& options, const std::string& name,
                               const std::string& console_log, const std::string& kernel_path,
                               const std::string& initrd_path,
                               const std::string& disk_path = "");

// A fresh unique name: gitdisc-test-<pid>-<counter>-<random>[-hint].
std::string UniqueTestDomainName(std::string_view hint);

// Destroys and undefines every `gitdisc-test-*` domain on `uri` whose creating
// process (the pid in its name) no longer exists. Returns how many it removed.
Result<int> ReapLeftoverTestDomains(const std::string& uri = "qemu:///system");

// Runs scripts/start-libvirtd.sh (from the source tree) so qemu:///system answers.
Status EnsureLibvirtd();

}  // namespace gitdisc::test_support

#endif  // GITDISC_TESTS_SUPPORT_TEST_DOMAIN_H_
