#include "specs/selector.h"

#include <gtest/gtest.h>

namespace gitdisc::specs {
namespace {

struct Case {
  const char* what;
  Selector selector;
  const char* vm;
  Labels labels;
  bool want;
};

TEST(Selector, Table) {
  const Labels web = {{"role", "web"}, {"env", "prod"}, {"tier", "edge"}};
  const std::vector<Case> cases = {
      {"label equal", {{{"role", "web"}}, {}, {}}, "vm1", web, true},
      {"label differs", {{{"role", "db"}}, {}, {}}, "vm1", web, false},
      {"label missing", {{{"zone", "a"}}, {}, {}}, "vm1", web, false},
      {"all labels must hold", {{{"role", "web"}, {"env", "dev"}}, {}, {}}, "vm1", web, false},
      {"In hit", {{}, {{"tier", SelectorOp::kIn, {"frontend", "edge"}}}, {}}, "vm1", web, true},
      {"In miss", {{}, {{"tier", SelectorOp::kIn, {"frontend"}}}, {}}, "vm1", web, false},
      {"In without label", {{}, {{"zone", SelectorOp::kIn, {"a"}}}, {}}, "vm1", web, false},
      {"NotIn hit", {{}, {{"tier", SelectorOp::kNotIn, {"edge"}}}, {}}, "vm1", web, false},
      {"NotIn miss", {{}, {{"tier", SelectorOp::kNotIn, {"core"}}}, {}}, "vm1", web, true},
      {"NotIn without label", {{}, {{"zone", SelectorOp::kNotIn, {"a"}}}, {}}, "vm1", web, true},
      {"Exists", {{}, {{"env", SelectorOp::kExists, {}}}, {}}, "vm1", web, true},
      {"Exists missing", {{}, {{"zone", SelectorOp::kExists, {}}}, {}}, "vm1", web, false},
      {"DoesNotExist", {{}, {{"zone", SelectorOp::kDoesNotExist, {}}}, {}}, "vm1", web, true},
      {"DoesNotExist present",
       {{}, {{"env", SelectorOp::kDoesNotExist, {}}}, {}},
       "vm1",
       web,
       false},
      {"star selects all", {{}, {}, {"*"}}, "anything", {}, true},
      {"glob prefix", {{}, {}, {"web-*"}}, "web-01", {}, true},
      {"glob prefix miss", {{}, {}, {"web-*"}}, "db-01", {}, false},
      {"any glob", {{}, {}, {"db-*", "web-0?"}}, "web-07", {}, true},
      {"class", {{}, {}, {"vm[0-3]"}}, "vm2", {}, true},
      {"class miss", {{}, {}, {"vm[0-3]"}}, "vm7", {}, false},
      {"names and labels both", {{{"role", "web"}}, {}, {"web-*"}}, "db-1", web, false},
      {"names and labels hold", {{{"role", "web"}}, {}, {"web-*"}}, "web-1", web, true},
      {"empty selects nothing", {}, "vm1", web, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Matches(c.selector, c.vm, c.labels), c.want) << c.what;
  }
}

TEST(Selector, GlobHasNoSpecialSlashOrDot) {
  EXPECT_TRUE(GlobMatches("*", "a/b"));
  EXPECT_TRUE(GlobMatches("*", ".hidden"));
  EXPECT_FALSE(GlobMatches("a", std::string("a\0b", 3)));
}

}  // namespace
}  // namespace gitdisc::specs
