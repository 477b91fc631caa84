// Spec files for tests against real Git: a small valid PayloadSet generator.
#ifndef GITDISC_TESTS_GIT_SPEC_FIXTURE_H_
#define GITDISC_TESTS_GIT_SPEC_FIXTURE_H_

#include <string>
#include <utility>
#include <vector>

namespace gitdisc::testing {

struct FixturePayload {
  FixturePayload(std::string n, std::string v = "1", std::string s = "path: payloads/motd",
                 std::string e = "")
      : name(std::move(n)), version(std::move(v)), source(std::move(s)), extra(std::move(e)) {}
  std::string name;
  std::string version;
  std::string source;  // the whole source line
  std::string extra;   // more lines, indented by 6
  std::string run = "[\"./install.sh\"]";
};

inline std::string SetYaml(const std::string& name, const std::vector<FixturePayload>& payloads,
                           const std::string& labels = "role: web",
                           const std::string& rollout = "maxParallel: 1", bool suspend = false) {
  std::string y = "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata:\n  name: " + name +
                  "\nspec:\n  selector:\n    matchLabels: {" + labels + "}\n  payloads:\n";
  for (const FixturePayload& p : payloads) {
    y += "    - name: " + p.name + "\n      version: \"" + p.version + "\"\n      " + p.source +
         "\n      run: " + p.run + "\n";
    if (!p.extra.empty()) y += p.extra;
  }
  y += "  rollout:\n    " + rollout + "\n";
  if (suspend) y += "  suspend: true\n";
  return y;
}

}  // namespace gitdisc::testing

#endif  // GITDISC_TESTS_GIT_SPEC_FIXTURE_H_
