#include "tests/support/promtool.h"

#include <sys/wait.h>

#include <cstdio>

#include "base/file_util.h"
#include "tests/support/temp_dir.h"

namespace gitdisc::testing {

std::string PromtoolProblems(std::string_view text) {
  TempDir dir("promtool");
  const std::string file = dir / "metrics.txt";
  if (Status st = WriteFileAtomic(file, text, 0600); !st.ok()) return st.ToString();
  FILE* p = ::popen(("promtool check metrics < '" + file + "' 2>&1").c_str(), "r");
  if (p == nullptr) return "cannot run promtool";
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  int status = ::pclose(p);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) return "promtool is not installed";
  return out.empty() ? "promtool failed without output" : out;
}

}  // namespace gitdisc::testing
