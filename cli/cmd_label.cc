// `gitdisc label VM key=value… key-`: sets and removes labels of one VM,
// found by name on the --connect hosts (default qemu:///system). A name found
// on several hosts is ambiguous: say so and change nothing. Exit 0 or 2.
#include <CLI/CLI.hpp>
#include <map>
#include <vector>

#include "cli/commands.h"
#include "cli/fleet_session.h"

namespace gitdisc::cli {

Command LabelCommand() {
  return Command{"label", "set (key=value) or remove (key-) labels of a VM",
                 [](CLI::App* sub, const GlobalOptions* global, Io* io) {
                   auto vm = std::make_shared<std::string>();
                   auto edits = std::make_shared<std::vector<std::string>>();
                   sub->add_option("VM", *vm, "domain name")->required();
                   sub->add_option("EDITS", *edits, "key=value to set, key- to remove")->required();
                   return std::function<int()>([global, io, vm, edits] {
                     std::map<std::string, std::string> set;
                     std::vector<std::string> remove;
                     for (const std::string& e : *edits) {
                       auto eq = e.find('=');
                       if (eq != std::string::npos && eq > 0) {
                         set[e.substr(0, eq)] = e.substr(eq + 1);
                       } else if (e.size() > 1 && e.back() == '-') {
                         remove.push_back(e.substr(0, e.size() - 1));
                       } else {
                         io->err << "gitdisc label: \"" << e << "\": expected key=value or key-\n";
                         return kExitError;
                       }
                     }
                     auto session = OpenFleetSession(*global, false);
                     if (!session.ok()) {
                       io->err << "gitdisc label: " << session.status().message() << "\n";
                       return kExitError;
                     }
                     auto found = FindVmByName(*(*session)->provider, *vm);
                     if (!found.ok()) {
                       io->err << "gitdisc label: " << found.status().message() << "\n";
                       return kExitError;
                     }
                     Status st = (*session)->provider->SetLabels(found->key, set, remove);
                     if (!st.ok()) {
                       io->err << "gitdisc label: " << st.message() << "\n";
                       return kExitError;
                     }
                     auto after = (*session)->provider->GetVm(found->key);
                     if (after.ok()) {
                       io->out << after->name << ":";
                       for (const auto& [k, v] : after->labels) io->out << " " << k << "=" << v;
                       io->out << "\n";
                     }
                     return kExitOk;
                   });
                 }};
}

}  // namespace gitdisc::cli
