#include "tests/support/test_domain.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "base/c_handle.h"
#include "base/file_util.h"
#include "base/markup_escape.h"

namespace gitdisc::test_support {
namespace {

constexpr char kPrefix[] = "gitdisc-test-";

using ConnPtr = CHandle<virConnect, virConnectClose>;
using DomainPtr = CHandle<virDomain, virDomainFree>;

Status LastError(std::string_view what) {
  virErrorPtr e = virGetLastError();
  std::string msg = std::string(what) + ": " + (e && e->message ? e->message : "unknown error");
  if (e && (e->code == VIR_ERR_NO_DOMAIN)) return Status::NotFound(msg);
  return Status::Internal(msg);
}

Status CopyFile(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  if (!in) return Status::NotFound("open " + from);
  std::ofstream out(to, std::ios::binary | std::ios::trunc);
  if (!out) return Status::Io("create " + to);
  out << in.rdbuf();
  out.close();
  if (!out) return Status::Io("write " + to);
  ::chmod(to.c_str(), 0644);
  return Status::Ok();
}

// Runs argv[0] (searched in PATH) and waits: Ok when it exits 0.
Status RunCommand(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return Status::FromErrno("fork", errno);
  if (pid == 0) {
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) return Status::FromErrno("waitpid", errno);
  }
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return Status::Ok();
  return Status::Internal(argv[0] + " failed (wait status " + std::to_string(st) + ")");
}

}  // namespace

struct TestDomain::Conn {
  ConnPtr conn;
  DomainPtr dom;
};

std::string UniqueTestDomainName(std::string_view hint) {
  static std::atomic<int> counter{0};
  std::random_device rd;
  char rnd[9];
  snprintf(rnd, sizeof rnd, "%08x", static_cast<unsigned>(rd()));
  std::string name = std::string(kPrefix) + std::to_string(::getpid()) + "-" +
                     std::to_string(counter.fetch_add(1)) + "-" + rnd;
  if (!hint.empty()) name += "-" + std::string(hint);
  return name;
}

std::string BuildTestDomainXml(const TestDomainOptions& o, const std::string& name,
                               const std::string& console_log, const std::string& kernel_path,
                               const std::string& initrd_path, const std::string& disk_path) {
  std::ostringstream x;
  x << "<domain type='qemu'>\n"
    << "  <name>" << EscapeMarkup(name) << "</name>\n"
    << "  <memory unit='MiB'>" << o.memory_mib << "</memory>\n"
    << "  <vcpu>1</vcpu>\n";
  if (!o.labels.empty()) {
    x << "  <metadata>\n    <g:labels xmlns:g='urn:gitdisc:labels:1'>\n";
    for (const auto& [k, v] : o.labels) {
      x << "      <g:label key='" << EscapeMarkup(k) << "' value='" << EscapeMarkup(v) << "'/>\n";
    }
    x << "    </g:labels>\n  </metadata>\n";
  }
  x << "  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n";
  if (!kernel_path.empty()) {
    x << "    <kernel>" << EscapeMarkup(kernel_path) << "</kernel>\n";
    if (!initrd_path.empty()) x << "    <initrd>" << EscapeMarkup(initrd_path) << "</initrd>\n";
    // no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer
    // check can fail and panic the boot; panic=1 reboots rather than hangs.
    std::string cmdline = "console=ttyS0 no_timer_check panic=1";
    if (!o.cmdline_extra.empty()) cmdline += " " + o.cmdline_extra;
    x << "    <cmdline>" << EscapeMarkup(cmdline) << "</cmdline>\n";
  } else {
    // No OS: SeaBIOS finds nothing to boot. Without this it would reboot
    // every 60 s and probe (open/close) the CD-ROM trays again each time.
    x << "    <bios rebootTimeout='-1'/>\n";
  }
  x << "  </os>\n";
  if (o.acpi) x << "  <features><acpi/></features>\n";
  x << "  <on_poweroff>destroy</on_poweroff>\n"
    << "  <on_reboot>restart</on_reboot>\n"
    << "  <on_crash>destroy</on_crash>\n"
    << "  <devices>\n";
  if (!disk_path.empty()) {
    x << "    <disk type='file' device='disk'>\n"
      << "      <driver name='qemu' type='qcow2'/>\n"
      << "      <source file='" << EscapeMarkup(disk_path) << "'/>\n"
      // The image under the overlay is shared and stays its owner's: libvirt
      // would chown it to the QEMU user and, for a backing file, not back.
      << "      <backingStore type='file'>\n"
      << "        <format type='" << EscapeMarkup(o.disk_backing_format) << "'/>\n"
      << "        <source file='" << EscapeMarkup(o.disk_backing) << "'>\n"
      << "          <seclabel model='dac' relabel='no'/>\n"
      << "        </source>\n"
      << "        <backingStore/>\n"
      << "      </backingStore>\n"
      << "      <target dev='vda' bus='virtio'/>\n"
      << "    </disk>\n";
  }
  static const char* kTargets[] = {"hdc", "hdd"};
  int drives = o.cdrom_count < 0 ? 0 : (o.cdrom_count > 2 ? 2 : o.cdrom_count);
  for (int i = 0; i < drives; ++i) {
    std::string src = i < static_cast<int>(o.cdrom_sources.size()) ? o.cdrom_sources[i] : "";
    x << "    <disk type='file' device='cdrom'>\n"
      << "      <driver name='qemu' type='raw'/>\n";
    if (!src.empty()) x << "      <source file='" << EscapeMarkup(src) << "'/>\n";
    x << "      <target dev='" << kTargets[i] << "' bus='ide'/>\n"
      << "      <readonly/>\n"
      << "    </disk>\n";
  }
  if (o.agent_channel) {
    x << "    <channel type='unix'>\n"
      << "      <target type='virtio' name='org.gitdisc.agent.0'/>\n"
      << "    </channel>\n";
  }
  if (o.qemu_guest_agent_channel) {
    x << "    <channel type='unix'>\n"
      << "      <target type='virtio' name='org.qemu.guest_agent.0'/>\n"
      << "    </channel>\n";
  }
  x << "    <serial type='file'>\n"
    << "      <source path='" << EscapeMarkup(console_log) << "'/>\n"
    << "      <target port='0'/>\n"
    << "    </serial>\n"
    << "    <console type='file'>\n"
    << "      <source path='" << EscapeMarkup(console_log) << "'/>\n"
    << "      <target type='serial' port='0'/>\n"
    << "    </console>\n"
    << "    <memballoon model='none'/>\n"
    << "  </devices>\n"
    << "</domain>\n";
  return x.str();
}

Result<std::unique_ptr<TestDomain>> TestDomain::Create(const TestDomainOptions& o) {
  std::unique_ptr<TestDomain> td(new TestDomain());
  td->uri_ = o.uri;
  td->name_ = UniqueTestDomainName(o.name_hint);

  std::string tmpl = "/tmp/" + td->name_ + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) return Status::FromErrno("mkdtemp " + tmpl, errno);
  td->work_dir_ = buf.data();
  // mkdtemp makes 0700; the QEMU user (libvirt-qemu) must traverse it.
  ::chmod(td->work_dir_.c_str(), 0755);
  td->console_log_ = JoinPath(td->work_dir_, "console.log");

  std::string kernel, initrd;
  if (!o.kernel.empty()) {
    kernel = JoinPath(td->work_dir_, "vmlinuz");
    GITDISC_RETURN_IF_ERROR(CopyFile(o.kernel, kernel));
    if (!o.initrd.empty()) {
      initrd = JoinPath(td->work_dir_, "initrd");
      GITDISC_RETURN_IF_ERROR(CopyFile(o.initrd, initrd));
    }
  }

  std::string disk;
  TestDomainOptions resolved = o;
  if (!o.disk_backing.empty()) {
    disk = JoinPath(td->work_dir_, "disk.qcow2");
    char* abs = ::realpath(o.disk_backing.c_str(), nullptr);
    if (!abs) return Status::FromErrno("realpath " + o.disk_backing, errno);
    resolved.disk_backing = abs;
    free(abs);
    GITDISC_RETURN_IF_ERROR(RunCommand({"qemu-img", "create", "-q", "-f", "qcow2", "-F",
                                        o.disk_backing_format, "-b", resolved.disk_backing,
                                        disk}));
    ::chmod(disk.c_str(), 0644);
  }

  auto conn = std::make_unique<Conn>();
  conn->conn.reset(virConnectOpen(o.uri.c_str()));
  if (!conn->conn) return LastError("virConnectOpen " + o.uri);

  std::string xml =
      BuildTestDomainXml(resolved, td->name_, td->console_log_, kernel, initrd, disk);
  if (o.persistent) {
    conn->dom.reset(virDomainDefineXML(conn->conn.get(), xml.c_str()));
    if (!conn->dom) return LastError("virDomainDefineXML " + td->name_);
    td->conn_ = std::move(conn);  // from here the destructor cleans up
    if (o.start && virDomainCreate(td->conn_->dom.get()) < 0) {
      return LastError("virDomainCreate " + td->name_);
    }
  } else {
    conn->dom.reset(virDomainCreateXML(conn->conn.get(), xml.c_str(), 0));
    if (!conn->dom) return LastError("virDomainCreateXML " + td->name_);
    td->conn_ = std::move(conn);
  }
  char uuid[VIR_UUID_STRING_BUFLEN];
  if (virDomainGetUUIDString(td->conn_->dom.get(), uuid) < 0) {
    return LastError("virDomainGetUUIDString " + td->name_);
  }
  td->uuid_ = uuid;
  return td;
}

TestDomain::~TestDomain() {
  if (conn_ && conn_->dom) {
    virDomainPtr d = conn_->dom.get();
    // Ask before destroying: a destroyed transient domain is gone, and
    // asking about it afterwards would only log "Domain not found".
    bool persistent = virDomainIsPersistent(d) == 1;
    if (virDomainIsActive(d) == 1) virDomainDestroy(d);
    if (persistent) {
      virDomainUndefineFlags(d, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                                    VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                                    VIR_DOMAIN_UNDEFINE_NVRAM);
    }
    virResetLastError();
  }
  conn_.reset();
  if (!work_dir_.empty()) (void)RemoveAll(work_dir_);
}

std::string TestDomain::ConsoleText() const {
  auto r = ReadFile(console_log_, 64 << 20);
  return r.ok() ? *r : std::string();
}

Status TestDomain::WaitForConsoleLine(std::string_view substring,
                                      std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::string text = ConsoleText();
    if (text.find(substring) != std::string::npos) return Status::Ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string tail = text.size() > 2000 ? text.substr(text.size() - 2000) : text;
      return Status::Timeout("no console line containing '" + std::string(substring) + "' in " +
                             std::to_string(timeout.count()) + " ms on " + name_ +
                             "; console tail:\n" + tail);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Result<std::string> TestDomain::XmlDesc(bool inactive) const {
  char* x = virDomainGetXMLDesc(conn_->dom.get(), inactive ? VIR_DOMAIN_XML_INACTIVE : 0);
  if (!x) return LastError("virDomainGetXMLDesc " + name_);
  std::string s = x;
  free(x);
  return s;
}

Result<bool> TestDomain::IsRunning() const {
  int r = virDomainIsActive(conn_->dom.get());
  if (r < 0) return LastError("virDomainIsActive " + name_);
  return r == 1;
}

Status TestDomain::Start() {
  if (virDomainCreate(conn_->dom.get()) < 0) return LastError("virDomainCreate " + name_);
  return Status::Ok();
}

Status TestDomain::Destroy() {
  if (virDomainDestroy(conn_->dom.get()) < 0) return LastError("virDomainDestroy " + name_);
  return Status::Ok();
}

Status TestDomain::Undefine() {
  if (virDomainUndefine(conn_->dom.get()) < 0) return LastError("virDomainUndefine " + name_);
  return Status::Ok();
}

Result<std::string> TestDomain::WriteWorkFile(const std::string& name,
                                              std::string_view data) const {
  std::string path = JoinPath(work_dir_, name);
  GITDISC_RETURN_IF_ERROR(WriteFileAtomic(path, data, 0644));
  return path;
}

Result<int> ReapLeftoverTestDomains(const std::string& uri) {
  ConnPtr conn(virConnectOpen(uri.c_str()));
  if (!conn) return LastError("virConnectOpen " + uri);
  virDomainPtr* doms = nullptr;
  int n = virConnectListAllDomains(conn.get(), &doms, 0);
  if (n < 0) return LastError("virConnectListAllDomains " + uri);
  int reaped = 0;
  for (int i = 0; i < n; ++i) {
    DomainPtr d(doms[i]);
    const char* name = virDomainGetName(d.get());
    if (!name || std::string_view(name).rfind(kPrefix, 0) != 0) continue;
    long pid = std::strtol(name + sizeof(kPrefix) - 1, nullptr, 10);
    if (pid <= 0) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) continue;  // still alive
    if (virDomainIsActive(d.get()) == 1) virDomainDestroy(d.get());
    if (virDomainIsPersistent(d.get()) == 1) virDomainUndefine(d.get());
    ++reaped;
  }
  free(doms);
  virResetLastError();
  return reaped;
}

Status EnsureLibvirtd() {
#ifdef GITDISC_SOURCE_DIR
  std::string cmd = std::string("bash ") + GITDISC_SOURCE_DIR + "/scripts/start-libvirtd.sh";
#else
  std::string cmd = "bash scripts/start-libvirtd.sh";
#endif
  int rc = std::system(cmd.c_str());
  if (rc != 0)
    return Status::Unavailable("start-libvirtd.sh failed (status " + std::to_string(rc) + ")");
  return Status::Ok();
}

}  // namespace gitdisc::test_support
