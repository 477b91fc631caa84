// What `gitdisc vm prepare` adds to a VM's persistent definition, decided
// from the parsed definition alone (providers/manageability.h says why each
// device is needed): the agent channel org.gitdisc.agent.0 when it is
// missing, and an empty CD-ROM drive on a bus with a tray when the
// definition has no empty one (media the user keeps in a drive, such as an
// installer, is never touched: gitdisc adds a drive beside it).
//
// Pure functions; thread-safe.
#ifndef GITDISC_PROVIDERS_VM_PREPARATION_H_
#define GITDISC_PROVIDERS_VM_PREPARATION_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "providers/domain_xml.h"

namespace gitdisc {

// The bus used when the caller names none: that of the definition's CD-ROM
// drives with a tray, else "sata" on q35 machines (they have no IDE) and
// "ide" on others.
std::string DefaultCdromBus(const ParsedDomain& definition);

// The first target name on `bus` that no disk of the definition uses:
// hda..hdd for IDE (two channels of two), sda..sdz for SATA and SCSI
// (libvirt names both sdX). "" when none is left.
std::string FreeDiskTarget(std::string_view bus, const std::vector<std::string>& used);

// The device elements to add, channel first (empty: nothing is missing).
// `cdrom_bus` "" means DefaultCdromBus. kInvalid for a bus other than
// sata/ide/scsi, kConflict when that bus has no free target name.
Result<std::vector<std::string>> DevicesToAdd(const ParsedDomain& definition,
                                              std::string_view cdrom_bus);

}  // namespace gitdisc

#endif  // GITDISC_PROVIDERS_VM_PREPARATION_H_
