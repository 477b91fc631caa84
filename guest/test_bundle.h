// Helpers for tests of the agent (guest/*_test.cc and tests/guest/):
// bundle ISOs written by the real iso/ writer from in-memory payloads, and
// the shared TempDir. Header-only; tests only.
#ifndef GITDISC_GUEST_TEST_BUNDLE_H_
#define GITDISC_GUEST_TEST_BUNDLE_H_

#include <stdlib.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/file_util.h"
#include "guest/agent.h"
#include "iso/bundle.h"
#include "iso/iso_writer.h"
#include "tests/support/temp_dir.h"

namespace gitdisc::guest::testing {

// The one TempDir of the tests (tests/support/temp_dir.h), named here so that
// the agent's tests keep writing testing::TempDir.
using ::gitdisc::testing::TempDir;

inline iso::BundleFile MemFile(std::string path, std::string content, uint32_t mode = 0644) {
  iso::BundleFile f;
  f.path = std::move(path);
  f.mode = mode;
  f.size = content.size();
  f.open = [content]() -> Result<std::unique_ptr<iso::FileReader>> {
    return iso::MemoryReader(content);
  };
  return f;
}

// A payload whose run is ./install.sh with the given shell script body.
inline iso::BundlePayload ScriptPayload(std::string name, std::string script,
                                        std::map<std::string, std::string> env = {},
                                        std::vector<std::string> after = {},
                                        std::string reboot = "never",
                                        int64_t timeout_seconds = 600) {
  iso::BundlePayload p;
  p.name = std::move(name);
  p.version = "1";
  p.run = {"./install.sh"};
  p.env = std::move(env);
  p.after = std::move(after);
  p.reboot = std::move(reboot);
  p.timeout_seconds = timeout_seconds;
  p.files.push_back(MemFile("install.sh", "#!/bin/sh\n" + script, 0755));
  p.files.push_back(MemFile("data/readme.txt", "payload " + p.name + "\n"));
  return p;
}

// Writes the bundle to path; returns the bundle digest ("" on failure, with
// the reason in *error).
inline std::string WriteBundle(std::vector<iso::BundlePayload> payloads, const std::string& path,
                               std::string* error = nullptr) {
  iso::Bundle b;
  b.revision = "test-revision";
  b.payloads = std::move(payloads);
  auto r = iso::WriteBundleIso(b, path);
  if (!r.ok()) {
    if (error) *error = r.status().ToString();
    return "";
  }
  return r->bundle_digest;
}

// A real in-process agent keeping its state in dir/state and reading the
// disc image `disc` (retrying 300 ms), on the real Linux system.
inline Result<std::unique_ptr<Agent>> MakeDiscAgent(const std::string& dir,
                                                    const std::string& disc) {
  AgentOptions o;
  o.state_dir = dir + "/state";
  o.discs = {disc};
  o.disc_retry = std::chrono::milliseconds(300);
  return Agent::Create(o, MakeLinuxAgentSystem());
}

}  // namespace gitdisc::guest::testing

#endif  // GITDISC_GUEST_TEST_BUNDLE_H_
