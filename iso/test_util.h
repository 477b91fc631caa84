// Helpers shared by the iso/ unit tests (header-only, tests only): temp
// folders, in-memory bundles, running a command and capturing its output.
#ifndef GITDISC_ISO_TEST_UTIL_H_
#define GITDISC_ISO_TEST_UTIL_H_

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "base/file_util.h"
#include "base/sha256.h"
#include "iso/bundle.h"
#include "tests/support/temp_dir.h"

namespace gitdisc::iso::isotest {

using TempDir = ::gitdisc::testing::TempDir;

inline BundleFile MemFile(std::string path, std::string content, uint32_t mode = 0644,
                          bool with_digest = false) {
  BundleFile f;
  f.path = std::move(path);
  f.mode = mode;
  f.size = content.size();
  if (with_digest) f.sha256 = Sha256Hex(content);
  f.open = [content]() -> Result<std::unique_ptr<FileReader>> { return MemoryReader(content); };
  return f;
}

// A bundle of one payload "app" (version `tag`) holding one file whose
// content is `tag`: distinct tags give distinct bundle digests.
inline Bundle OneFileBundle(const std::string& tag) {
  BundlePayload p;
  p.name = "app";
  p.version = tag;
  p.files = {MemFile("data", tag, 0644, true)};
  p.digest = ComputePayloadDigest(p);
  Bundle b;
  b.payloads = {p};
  return b;
}

inline BundleFile Link(std::string path, std::string target) {
  BundleFile f;
  f.path = std::move(path);
  f.mode = 0777;
  f.size = target.size();
  f.symlink_target = std::move(target);
  return f;
}

// Runs `cmd` through /bin/sh; returns its exit status and sets *out to stdout.
inline int RunShell(const std::string& cmd, std::string* out = nullptr) {
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::string data;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) data.append(buf, n);
  int rc = pclose(p);
  if (out) *out = std::move(data);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace gitdisc::iso::isotest

#endif  // GITDISC_ISO_TEST_UTIL_H_
