// The XML of gitdisc's storage pool and of its image volumes, for
// virStoragePoolDefineXML and virStorageVolCreateXML (DESIGN.md §5: images
// uploaded to a remote host live in the dir pool `gitdisc`, one volume per
// digest). Pure functions, written with XmlWriter (values are escaped by
// libxml2); thread-safe.
#ifndef GITDISC_PROVIDERS_STORAGE_XML_H_
#define GITDISC_PROVIDERS_STORAGE_XML_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace gitdisc {

// A dir pool named `name` whose folder is `target_dir` (mode 0755, so the
// QEMU user can reach the volumes).
std::string DirPoolXml(std::string_view name, std::string_view target_dir);

// A raw volume of `bytes` capacity (nothing allocated up front), mode 0644 so
// the QEMU user can read it.
std::string RawVolumeXml(std::string_view name, uint64_t bytes);

}  // namespace gitdisc

#endif  // GITDISC_PROVIDERS_STORAGE_XML_H_
