// Media (DESIGN.md §7 "Drives"): live insert into an empty CD-ROM drive and
// eject of the image the caller names, through virDomainUpdateDeviceFlags,
// with the repair of a tray libvirt wrongly believes open.
#include <libvirt/libvirt-qemu.h>
#include <stdlib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "providers/domain_xml.h"
#include "providers/libvirt_connection.h"
#include "providers/libvirt_provider.h"

namespace gitdisc {
namespace {

// QEMU's blockdev-open-tray for the device `alias`, as a monitor command.
std::string OpenTrayCommand(const std::string& alias, bool force) {
  nlohmann::json cmd = {{"execute", "blockdev-open-tray"},
                        {"arguments", {{"id", alias}, {"force", force}}}};
  return cmd.dump();
}

// virDomainUpdateDeviceFlags for a CD-ROM media change, with recovery from
// a stale tray state. libvirt tracks the tray from QEMU's DEVICE_TRAY_MOVED
// events and skips opening a tray it believes open. When the guest closes
// the tray right after libvirt opened it (SeaBIOS probing its drives at
// boot does; measured here), libvirt can be left believing "open" while
// QEMU's tray is closed: every later change then fails with QEMU's "Tray
// ... is not open", forever. Recovery: open the tray in QEMU
// (blockdev-open-tray through the monitor; force only when the caller
// allows forcing), which makes both views agree, then retry. Returns 0, or
// -1 with libvirt's last error set from the last attempt.
int UpdateDevice(virDomainPtr dom, const std::string& disk_xml, unsigned flags,
                 const std::string& alias, bool may_force_tray, std::atomic<int>* repairs) {
  for (int attempt = 0;; ++attempt) {
    if (virDomainUpdateDeviceFlags(dom, disk_xml.c_str(), flags) == 0) return 0;
    virErrorPtr e = virGetLastError();
    std::string msg = e && e->message ? e->message : "";
    if (attempt >= 4 || msg.find("is not open") == std::string::npos || alias.empty()) return -1;
    std::string cmd = OpenTrayCommand(alias, may_force_tray);
    char* reply = nullptr;
    virDomainQemuMonitorCommand(dom, cmd.c_str(), &reply, 0);
    repairs->fetch_add(1);
    ::free(reply);  // the next attempt's outcome is what counts
    std::this_thread::sleep_for(std::chrono::milliseconds(200 * (attempt + 1)));
  }
}

// The CD-ROM `target` of a parsed domain; kNotFound naming `call` and the VM.
Result<DriveInfo> FindCdrom(const ParsedDomain& parsed, const std::string& target,
                            const std::string& call, const std::string& vm) {
  for (const DriveInfo& d : parsed.cdroms) {
    if (d.target == target) return d;
  }
  return Status::NotFound(call + " " + vm + ": no CD-ROM drive " + target);
}

Status DriveBusy(const std::string& vm, const std::string& target, const std::string& holds,
                 const std::string& not_what) {
  return Status::Conflict(std::string(kDriveBusy) + ": " + vm + " drive " + target + " holds " +
                          holds + (not_what.empty() ? "" : ", not " + not_what));
}

}  // namespace

Status LibvirtProvider::InsertMedia(const std::string& key, const std::string& drive_target,
                                    const std::string& host_path) {
  if (host_path.empty()) return Status::Invalid("InsertMedia: empty image path");
  GITDISC_ASSIGN_OR_RETURN(DomainRef ref, Lookup(hosts_, sink_, reconnects_, key));
  virDomainPtr dom = ref.dom.get();
  GITDISC_ASSIGN_OR_RETURN(std::string xml, RunningDomainXml(ref, "InsertMedia"));
  GITDISC_ASSIGN_OR_RETURN(ParsedDomain parsed, ParseDomainXml(xml));
  GITDISC_ASSIGN_OR_RETURN(DriveInfo drive,
                           FindCdrom(parsed, drive_target, "InsertMedia", ref.name));
  if (drive.source == host_path) return Status::Ok();
  if (!drive.source.empty()) return DriveBusy(ref.name, drive_target, drive.source, "");
  std::string disk = CdromDiskXml(drive, host_path);
  const std::string alias = FindDriveAlias(xml, drive_target);
  // The drive is empty, so forcing its tray pulls nothing from anyone.
  if (UpdateDevice(dom, disk, VIR_DOMAIN_AFFECT_LIVE, alias, true, &tray_repairs_) == 0) {
    return Status::Ok();
  }
  Status first = LibvirtError("virDomainUpdateDeviceFlags", ref.name + " " + drive_target);
  if (!MentionsTray(first.message())) return first;
  // The guest keeps the (empty) drive's tray locked: force it. Nothing is
  // pulled from anyone, the drive holds no media.
  if (UpdateDevice(dom, disk,
                   static_cast<unsigned>(VIR_DOMAIN_AFFECT_LIVE) |
                       static_cast<unsigned>(VIR_DOMAIN_DEVICE_MODIFY_FORCE),
                   alias, true, &tray_repairs_) < 0) {
    return LibvirtError("virDomainUpdateDeviceFlags(FORCE)", ref.name + " " + drive_target)
        .Annotate("after " + first.message());
  }
  forced_inserts_.fetch_add(1);
  return Status::Ok();
}

Status LibvirtProvider::EjectMedia(const std::string& key, const std::string& drive_target,
                                   const std::string& expected_source, bool force) {
  GITDISC_ASSIGN_OR_RETURN(DomainRef ref, Lookup(hosts_, sink_, reconnects_, key));
  virDomainPtr dom = ref.dom.get();
  int active = virDomainIsActive(dom);
  if (active < 0) return LibvirtError("virDomainIsActive", ref.name);
  // A shut-off VM has no live drive; gitdisc only ever inserts live, so the
  // persistent definition is checked only so foreign media there is reported.
  GITDISC_ASSIGN_OR_RETURN(std::string xml,
                           GetXml(dom, active ? 0 : VIR_DOMAIN_XML_INACTIVE, ref.name));
  GITDISC_ASSIGN_OR_RETURN(ParsedDomain parsed, ParseDomainXml(xml));
  GITDISC_ASSIGN_OR_RETURN(DriveInfo drive,
                           FindCdrom(parsed, drive_target, "EjectMedia", ref.name));
  if (drive.source.empty()) return Status::Ok();
  if (drive.source != expected_source) {
    return DriveBusy(ref.name, drive_target, drive.source, expected_source);
  }
  std::string disk = CdromDiskXml(drive, "");
  unsigned flags = active ? VIR_DOMAIN_AFFECT_LIVE : VIR_DOMAIN_AFFECT_CONFIG;
  if (force) flags |= VIR_DOMAIN_DEVICE_MODIFY_FORCE;
  if (UpdateDevice(dom, disk, flags, active ? FindDriveAlias(xml, drive_target) : "", force,
                   &tray_repairs_) < 0) {
    Status s = LibvirtError("virDomainUpdateDeviceFlags", ref.name + " " + drive_target);
    if (!force && MentionsTray(s.message())) {
      return Status::Timeout(s.message() +
                             " (the guest keeps the tray locked; eject with force "
                             "once the agent released the disc)");
    }
    return s;
  }
  if (force) forced_ejects_.fetch_add(1);
  return Status::Ok();
}

}  // namespace gitdisc
