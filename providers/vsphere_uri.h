// vsphere:// connection URIs (DESIGN.md §4):
//
//   vsphere://USER@HOST[:PORT]/DATACENTER?passwordFile=PATH[&insecure=1][&caFile=PATH]
//
// DATACENTER is the datacenter's inventory path ("DC0", "emea/DC1"),
// percent-decoded. The password comes only from passwordFile (first line); a
// URI that carries one in its userinfo is refused, and no message ever repeats
// it (RedactUri). insecure=1 turns TLS verification off (labs); caFile names
// the CA bundle that signs vCenter's certificate. Pure functions.
#ifndef GITDISC_PROVIDERS_VSPHERE_URI_H_
#define GITDISC_PROVIDERS_VSPHERE_URI_H_

#include <string>
#include <string_view>

#include "base/status.h"

namespace gitdisc {

struct VsphereTarget {
  std::string uri;  // exactly as given: VM keys are "<uri>/<instance uuid>"
  std::string user;
  std::string host;  // IPv6 without brackets
  int port = 443;
  std::string datacenter;
  bool insecure = false;
  std::string password_file;
  std::string ca_file;
};

// Whether the URI's scheme is vsphere.
bool IsVsphereUri(std::string_view uri);

// kInvalid with a located reason (never the password) for anything else.
Result<VsphereTarget> ParseVsphereUri(const std::string& uri);

// The password: the file's first line (without its newline). kNotFound /
// kPermission name the file; kInvalid when it is empty.
Result<std::string> ReadPasswordFile(const std::string& path);

// The URI with any password in its userinfo replaced by "***".
std::string RedactUri(std::string_view uri);

}  // namespace gitdisc

#endif  // GITDISC_PROVIDERS_VSPHERE_URI_H_
