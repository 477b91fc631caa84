#include "bench/support/shell.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

namespace gitdisc::bench {

std::string GitEnv() {
  return "GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost GIT_COMMITTER_NAME=bench "
         "GIT_COMMITTER_EMAIL=bench@localhost GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null ";
}

int Sh(const std::string& cmd) {
  int rc = std::system((GitEnv() + cmd).c_str());
  if (rc == -1) return -1;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
}

std::string ShOut(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = ::popen((GitEnv() + cmd).c_str(), "r");
  if (!p) {
    if (status) *status = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = ::pclose(p);
  if (status) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

}  // namespace gitdisc::bench
