#include "cli/vm_check.h"

#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/fleet_session.h"
#include "providers/manageability.h"

namespace gitdisc::cli {
namespace {

using nlohmann::json;

// One VM's check: what AssessVm says, and what a dry PrepareVm says about its
// persistent definition.
struct VmReport {
  VmInfo vm;
  Manageability m;
  std::vector<std::string> would_add;  // devices `vm prepare` would add
  bool restart_pending = false;        // the definition has what the running VM lacks
  std::string definition_note;         // why the definition could not be read
};

std::vector<std::string> Names(const std::vector<Delivery>& ds) {
  std::vector<std::string> out;
  for (Delivery d : ds) out.push_back(DeliveryName(d));
  return out;
}

std::string JoinOr(const std::vector<std::string>& v, const char* none) {
  if (v.empty()) return none;
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

VmReport Check(Provider& provider, const VmInfo& vm) {
  VmReport r{vm, AssessVm(vm), {}, false, ""};
  auto dry = provider.PrepareVm(vm.key, {.cdrom_bus = "", .dry_run = true});
  if (dry.ok()) {
    r.would_add = dry->added;
    r.restart_pending = dry->restart_needed && dry->added.empty();
  } else {
    r.definition_note = dry.status().message();
  }
  return r;
}

json ToJson(const VmReport& r) {
  json drives = json::array();
  for (const DriveInfo& d : r.vm.cdroms) {
    bool tray = IsEjectableBus(d.bus);
    bool free = std::find(r.m.free.begin(), r.m.free.end(), d.target) != r.m.free.end();
    drives.push_back({{"target", d.target},
                      {"bus", d.bus},
                      {"source", d.source},
                      {"tray", tray},
                      {"free", free}});
  }
  return {{"name", r.vm.name},
          {"key", r.vm.key},
          {"host", r.vm.host},
          {"state", PowerStateName(r.vm.state)},
          {"manageable", r.m.manageable()},
          {"channel", r.m.channel},
          {"cdroms", drives},
          {"hotAddBuses", r.vm.hot_add_buses},
          {"labels", r.vm.labels},
          {"supported", Names(r.m.supported)},
          {"usable", Names(r.m.usable)},
          {"lacking", r.m.lacking},
          {"notes", r.m.notes},
          {"prepareWouldAdd", r.would_add},
          {"restartPending", r.restart_pending}};
}

void PrintText(const VmReport& r, std::ostream& out) {
  out << r.vm.name << " (" << r.vm.host << ", " << PowerStateName(r.vm.state)
      << "): " << (r.m.manageable() ? "manageable" : "NOT manageable") << "\n";
  out << "  channel   " << (r.m.channel ? kAgentChannelName : std::string("none")) << "\n";
  std::vector<std::string> drives;
  for (const DriveInfo& d : r.vm.cdroms) {
    drives.push_back(d.target + " (" + d.bus + ", " +
                     (d.source.empty() ? std::string("empty") : "holds " + d.source) + ")");
  }
  out << "  cdrom     " << JoinOr(drives, "none") << "\n";
  out << "  hot add   " << JoinOr(r.vm.hot_add_buses, "none") << "\n";
  out << "  delivery  " << JoinOr(Names(r.m.usable), "none") << " (the VM supports "
      << JoinOr(Names(r.m.supported), "none") << ")\n";
  for (const std::string& l : r.m.lacking) out << "  lacks     " << l << "\n";
  for (const std::string& n : r.m.notes) out << "  note      " << n << "\n";
  if (r.restart_pending) {
    out << "  pending   the persistent definition has what the running VM lacks: shut it down "
           "and start it\n";
  } else if (!r.would_add.empty() && !r.m.manageable()) {
    out << "  fix       gitdisc vm prepare " << r.vm.name << "\n";
  }
  if (!r.definition_note.empty() && !r.m.manageable()) {
    out << "  note      " << r.definition_note << "\n";
  }
}

Result<std::vector<VmInfo>> Selected(Provider& provider, const VmCheckArgs& args) {
  if (args.all) return provider.ListVms();
  std::vector<VmInfo> out;
  for (const std::string& name : args.names) {
    GITDISC_ASSIGN_OR_RETURN(VmInfo vm, FindVmByName(provider, name));
    out.push_back(std::move(vm));
  }
  return out;
}

}  // namespace

int RunVmCheck(Provider& provider, const VmCheckArgs& args, bool json_out, Io& io) {
  if (args.all == !args.names.empty()) {
    io.err << "gitdisc vm check: name VMs or give --all, not both\n";
    return kExitError;
  }
  auto vms = Selected(provider, args);
  if (!vms.ok()) {
    io.err << "gitdisc vm check: " << vms.status().message() << "\n";
    return kExitError;
  }
  bool all_ok = true;
  json list = json::array();
  for (const VmInfo& vm : *vms) {
    VmReport r = Check(provider, vm);
    all_ok = all_ok && r.m.manageable();
    if (json_out) {
      list.push_back(ToJson(r));
    } else {
      PrintText(r, io.out);
    }
  }
  if (json_out) {
    io.out << json{{"schemaVersion", 1}, {"vms", list}}.dump(2) << "\n";
  } else if (vms->empty()) {
    io.out << "no VMs\n";
  }
  return all_ok ? kExitOk : kExitFailed;
}

int RunVmPrepare(Provider& provider, const VmPrepareArgs& args, bool json_out, Io& io) {
  auto vm = FindVmByName(provider, args.name);
  if (!vm.ok()) {
    io.err << "gitdisc vm prepare: " << vm.status().message() << "\n";
    return kExitError;
  }
  auto r = provider.PrepareVm(vm->key, args.options);
  if (!r.ok()) {
    io.err << "gitdisc vm prepare: " << r.status().message() << "\n";
    return kExitError;
  }
  const bool dry = args.options.dry_run;
  if (json_out) {
    io.out << json{{"schemaVersion", 1},
                   {"name", vm->name},
                   {"key", vm->key},
                   {"dryRun", dry},
                   {"added", r->added},
                   {"running", r->running},
                   {"restartNeeded", r->restart_needed}}
                  .dump(2)
           << "\n";
    return kExitOk;
  }
  if (r->added.empty()) {
    io.out << vm->name << ": the persistent definition has everything gitdisc needs\n";
  } else {
    io.out << vm->name << ": " << (dry ? "would add" : "added")
           << " to the persistent definition:\n";
    for (const std::string& d : r->added) io.out << "+ " << d << "\n";
  }
  if (r->restart_needed) {
    io.out << vm->name << " is running without " << (r->added.empty() ? "them" : "the new devices")
           << ": shut it down and start it again (a reboot inside the guest keeps the running "
              "devices)\n";
  }
  return kExitOk;
}

}  // namespace gitdisc::cli
