// Helpers for tests against real Git: temp folders and the `git` command,
// with a fixed identity and no dependence on the machine's git config.
#ifndef GITDISC_TESTS_GIT_GIT_TEST_UTIL_H_
#define GITDISC_TESTS_GIT_GIT_TEST_UTIL_H_

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "tests/support/temp_dir.h"

namespace gitdisc::testing {

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

// The environment prefix every git call gets: a fixed identity, no global or
// system config, main as the default branch.
inline std::string GitEnv() {
  return "GIT_AUTHOR_NAME=gitdisc-test GIT_AUTHOR_EMAIL=test@gitdisc.invalid "
         "GIT_COMMITTER_NAME=gitdisc-test GIT_COMMITTER_EMAIL=test@gitdisc.invalid "
         "GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_TERMINAL_PROMPT=0 ";
}

// Runs `git -C dir ARGS` (args already shell-quoted as needed); returns its
// stdout, throws when git fails so a broken fixture never passes silently.
inline std::string Git(const std::string& dir, const std::string& args) {
  std::string cmd = GitEnv() + "git -c init.defaultBranch=main -c protocol.file.allow=always -C " +
                    ShellQuote(dir) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("popen failed");
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int rc = ::pclose(p);
  if (rc != 0) throw std::runtime_error("git " + args + " failed: " + out);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

inline void WriteText(const std::string& path, const std::string& text, int mode = 0644) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  ::chmod(path.c_str(), static_cast<mode_t>(mode));
}

inline void Symlink(const std::string& target, const std::string& link) {
  std::filesystem::create_directories(std::filesystem::path(link).parent_path());
  std::filesystem::remove(link);
  std::filesystem::create_symlink(target, link);
}

// A working repository with one helper per common step.
class WorkRepo {
 public:
  WorkRepo() { Git(dir_.path(), "init -q"); }
  const std::string& path() const { return dir_.path(); }
  std::string operator/(const std::string& rel) const { return dir_ / rel; }
  void Write(const std::string& rel, const std::string& text, int mode = 0644) {
    WriteText(dir_ / rel, text, mode);
  }
  // git add -A && git commit; returns the new commit's full SHA.
  std::string Commit(const std::string& message) {
    Git(path(), "add -A");
    Git(path(), "commit -q --allow-empty -m " + ShellQuote(message));
    return Git(path(), "rev-parse HEAD");
  }
  std::string Run(const std::string& args) { return Git(path(), args); }

 private:
  TempDir dir_;
};

}  // namespace gitdisc::testing

#endif  // GITDISC_TESTS_GIT_GIT_TEST_UTIL_H_
