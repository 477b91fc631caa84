// Hostile input: every case must end in one located diagnostic, quickly, with
// bounded memory and without overflowing even a small stack.
#include "specs/yaml_tree.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <functional>
#include <string>

#include "specs/spec_parser.h"

namespace gitdisc::specs {
namespace {

std::string ErrorOf(const std::string& content, const YamlLimits& limits = {}) {
  YamlStream s = ReadYamlStream("f.yaml", content, limits);
  return s.error ? s.error->ToString() : "no error";
}

// Runs fn on a thread with a 256 KiB stack: yaml-cpp recursing once per
// nesting level would overflow it long before 100000 levels.
void OnSmallStack(std::function<void()> fn) {
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, 256 * 1024), 0);
  pthread_t thread;
  auto trampoline = [](void* arg) -> void* {
    (*static_cast<std::function<void()>*>(arg))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, trampoline, &fn), 0);
  ASSERT_EQ(pthread_join(thread, nullptr), 0);
  pthread_attr_destroy(&attr);
}

TEST(YamlTree, BuildsNodesWithPositions) {
  YamlStream s = ReadYamlStream("f.yaml", "a: \"q\"\nb: [1, x]\nc:\n");
  ASSERT_FALSE(s.error);
  ASSERT_EQ(s.documents.size(), 1u);
  const YamlNode& root = s.node(s.documents[0].root);
  ASSERT_TRUE(root.is_map());
  ASSERT_EQ(root.children.size(), 6u);
  EXPECT_EQ(s.node(root.children[0]).value, "a");
  EXPECT_TRUE(s.node(root.children[0]).plain);
  EXPECT_EQ(s.node(root.children[1]).value, "q");
  EXPECT_FALSE(s.node(root.children[1]).plain);
  const YamlNode& list = s.node(root.children[3]);
  EXPECT_TRUE(list.is_seq());
  EXPECT_EQ(list.line, 2);
  EXPECT_EQ(list.column, 4);
  EXPECT_EQ(s.node(list.children[1]).column, 8);
  EXPECT_TRUE(s.node(root.children[5]).is_null());
}

TEST(YamlTree, HundredThousandOpenBracketsStopAtTheDepthLimitOnASmallStack) {
  std::string deep(100000, '[');
  std::string error;
  OnSmallStack([&] { error = ErrorOf(deep); });
  EXPECT_EQ(error, "f.yaml:1:33: error: YAML nested more than 64 levels deep");
}

TEST(YamlTree, DeepBalancedBracketsAreRejectedAtLevel65) {
  std::string deep = std::string(70, '[') + std::string(70, ']');
  EXPECT_EQ(ErrorOf(deep), "f.yaml:1:65: error: YAML nested more than 64 levels deep");
  std::string ok = std::string(64, '[') + std::string(64, ']');
  EXPECT_EQ(ErrorOf(ok), "no error");
}

TEST(YamlTree, DeepBlockSequencesAndComplexKeysAreRejected) {
  std::string dashes;
  for (int i = 0; i < 100000; ++i) dashes += "- ";
  std::string keys;
  for (int i = 0; i < 100000; ++i) keys += "? ";
  std::string e1, e2;
  OnSmallStack([&] {
    e1 = ErrorOf(dashes + "x\n");
    e2 = ErrorOf(keys + "x\n");
  });
  EXPECT_EQ(e1, "f.yaml:1:129: error: YAML nested more than 64 levels deep");
  EXPECT_EQ(e2, "f.yaml:1:129: error: YAML nested more than 64 levels deep");
}

TEST(YamlTree, DeepFlowMappingsGiveALocatedError) {
  std::string deep = std::string(100000, '{') + std::string(100000, '}');
  std::string error;
  OnSmallStack([&] { error = ErrorOf(deep); });
  EXPECT_EQ(error.rfind("f.yaml:1:", 0), 0u) << error;
  EXPECT_NE(error.find(": error: "), std::string::npos) << error;
}

TEST(YamlTree, AliasBombIsNotExpanded) {
  // "Billion laughs": 9^30 strings if expanded.
  std::string yaml = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 30; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 9; ++j) yaml += (j ? ", " : "") + prev;
    yaml += "]\n";
  }
  YamlStream s = ReadYamlStream("f.yaml", yaml);
  ASSERT_FALSE(s.error);
  EXPECT_LT(s.nodes.size(), 400u);
  // As a spec, the aliases are refused with their position.
  ParsedFile f =
      ParseSpecFile("f.yaml",
                    "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata: {name: x}\nspec:\n"
                    "  selector: &s {names: [a]}\n  payloads: *s\n");
  ASSERT_EQ(f.diagnostics.size(), 1u);
  EXPECT_EQ(f.diagnostics[0].ToString(),
            "f.yaml:6:13: error: YAML aliases are not supported in gitdisc specs; write the value "
            "out");
}

TEST(YamlTree, NodeCountIsLimited) {
  std::string many;
  for (int i = 0; i < 200; ++i) many += "- a\n";
  YamlLimits limits;
  limits.max_nodes = 100;
  EXPECT_EQ(ErrorOf(many, limits), "f.yaml:100:3: error: more than 100 YAML nodes in one file");
}

TEST(YamlTree, FileOverTheSizeLimitIsRejectedWithoutParsing) {
  std::string big(100 * 1024 * 1024, 'a');  // 100 MiB
  EXPECT_EQ(ErrorOf(big),
            "f.yaml:1:1: error: file is 104857600 bytes, over the limit of 1048576 bytes for YAML "
            "files");
}

TEST(YamlTree, InvalidUtf8IsLocated) {
  EXPECT_EQ(ErrorOf("a: b\nc: \"\xff\xfe\"\n"),
            "f.yaml:2:5: error: not valid UTF-8 (byte 0xFF); spec files must be UTF-8");
  EXPECT_EQ(ErrorOf("a: \xc3\n"),  // truncated sequence
            "f.yaml:1:4: error: not valid UTF-8 (byte 0xC3); spec files must be UTF-8");
  EXPECT_EQ(ErrorOf("a: \xc0\xaf\n"),  // overlong '/'
            "f.yaml:1:4: error: not valid UTF-8 (byte 0xC0); spec files must be UTF-8");
  EXPECT_EQ(ErrorOf("a: \xed\xa0\x80\n"),  // a surrogate
            "f.yaml:1:4: error: not valid UTF-8 (byte 0xED); spec files must be UTF-8");
  EXPECT_EQ(ErrorOf("name: caf\xc3\xa9\n"), "no error");
}

TEST(YamlTree, ControlCharactersAreLocated) {
  EXPECT_EQ(ErrorOf(std::string("a: b\0c\n", 7)),
            "f.yaml:1:5: error: control character U+0000 is not allowed in YAML");
  EXPECT_EQ(ErrorOf("a:\n  b: \x1b[31m\n"),
            "f.yaml:2:6: error: control character U+001B is not allowed in YAML");
}

TEST(YamlTree, BinaryJunkIsRejected) {
  std::string junk;
  uint32_t x = 12345;
  for (int i = 0; i < 4096; ++i) {
    x = x * 1103515245 + 12345;
    junk += static_cast<char>(x >> 24);
  }
  std::string error = ErrorOf(junk);
  EXPECT_EQ(error.rfind("f.yaml:1:", 0), 0u) << error;
  EXPECT_NE(error.find("error: "), std::string::npos);
}

TEST(YamlTree, SyntaxErrorsAreLocatedAndEarlierDocumentsKept) {
  YamlStream s = ReadYamlStream("f.yaml", "a: 1\n---\nkey: [unclosed\n");
  ASSERT_TRUE(s.error);
  EXPECT_EQ(s.error->ToString(), "f.yaml:4:1: error: YAML syntax: end of sequence flow not found");
  EXPECT_EQ(s.documents.size(), 1u);
  EXPECT_EQ(ErrorOf("a: b: c\n"), "f.yaml:1:5: error: YAML syntax: illegal map value");
  EXPECT_EQ(ErrorOf("a: 1\n b: 2\nc\n").substr(0, 9), "f.yaml:2:");
}

TEST(YamlTree, Utf16ByteOrderMarkIsNotUtf8) {
  EXPECT_EQ(ErrorOf(std::string("\xff\xfe"
                                "a\0:\0",
                                6)),
            "f.yaml:1:1: error: not valid UTF-8 (byte 0xFF); spec files must be UTF-8");
}

}  // namespace
}  // namespace gitdisc::specs
