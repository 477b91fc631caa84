#include "specs/spec_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "specs/folder_tree.h"
#include "specs/test_folder.h"

namespace gitdisc::specs {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string SetYaml(const std::string& name, const std::string& payload_path,
                    const std::string& payload = "p") {
  return "apiVersion: gitdisc/v1\n"
         "kind: PayloadSet\n"
         "metadata:\n"
         "  name: " +
         name +
         "\n"
         "spec:\n"
         "  selector: {names: [\"*\"]}\n"
         "  payloads:\n"
         "    - name: " +
         payload +
         "\n"
         "      version: \"1\"\n"
         "      path: " +
         payload_path +
         "\n"
         "      run: [./install.sh]\n";
}

void WritePayload(const TestFolder& dir, const std::string& folder) {
  dir.Write(folder + "/install.sh", "#!/bin/sh\necho hi\n", 0755);
}

SpecLoad Load(const TestFolder& dir, const std::string& spec_path = "") {
  auto tree = OpenFolderTree(dir.path());
  EXPECT_TRUE(tree.ok()) << tree.status().ToString();
  auto load = LoadSpecs(**tree, spec_path);
  EXPECT_TRUE(load.ok()) << load.status().ToString();
  return std::move(load).value();
}

std::vector<std::string> Problems(const SpecLoad& load) {
  std::vector<std::string> out;
  for (const Diagnostic& d : load.diagnostics) out.push_back(d.ToString());
  return out;
}

TEST(SpecLoader, LoadsEveryYamlFileSortedUnderTheSpecPath) {
  TestFolder dir;
  dir.Write("fleet/b.yaml", SetYaml("b", "payloads/p"));
  dir.Write("fleet/sub/a.yml", SetYaml("a", "payloads/p"));
  dir.Write("fleet/notes.txt", "not yaml, not read");
  dir.Write("fleet/.hidden/x.yaml", "{{{ not read");
  WritePayload(dir, "fleet/payloads/p");
  dir.Write("other/z.yaml", "{{{ outside the spec path");
  SpecLoad load = Load(dir, "fleet");
  EXPECT_THAT(Problems(load), IsEmpty());
  EXPECT_TRUE(load.ok());
  EXPECT_EQ(load.files, (std::vector<std::string>{"fleet/b.yaml", "fleet/sub/a.yml"}));
  ASSERT_EQ(load.sets.size(), 2u);
  EXPECT_EQ(load.sets[0].name, "b");
  EXPECT_EQ(load.sets[1].name, "a");
  EXPECT_EQ(load.sets[1].pos.file, "fleet/sub/a.yml");
  EXPECT_EQ(load.payload_count(), 2);
}

TEST(SpecLoader, SetNamesMustBeUniqueAcrossFiles) {
  TestFolder dir;
  dir.Write("a.yaml", SetYaml("web", "payloads/p"));
  dir.Write("b.yaml", SetYaml("web", "payloads/p"));
  WritePayload(dir, "payloads/p");
  SpecLoad load = Load(dir);
  EXPECT_THAT(Problems(load),
              ElementsAre("b.yaml:4:9: error: PayloadSet 'web' is already defined at a.yaml:4:9; "
                          "set names must be unique"));
  EXPECT_FALSE(load.ok());
  ASSERT_EQ(load.sets.size(), 1u);
  EXPECT_EQ(load.sets[0].pos.file, "a.yaml");
}

TEST(SpecLoader, PayloadFolderMustExistAsARealFolder) {
  TestFolder dir;
  dir.Write("a.yaml", SetYaml("a", "payloads/missing"));
  dir.Write("b.yaml", SetYaml("b", "payloads/file"));
  dir.Write("payloads/file", "x");
  dir.Write("c.yaml", SetYaml("c", "payloads/link"));
  WritePayload(dir, "payloads/real");
  dir.Symlink("payloads/link", "real");
  SpecLoad load = Load(dir);
  EXPECT_THAT(Problems(load),
              ElementsAre("a.yaml:10:13: error: payload 'p': folder 'payloads/missing' does not "
                          "exist (looked for 'payloads/missing' in folder " +
                              dir.path() + ")",
                          "b.yaml:10:13: error: payload 'p': 'payloads/file' is a file, not a "
                          "folder",
                          "c.yaml:10:13: error: payload 'p': 'payloads/link' is a symlink; a "
                          "payload folder must be a real folder"));
  EXPECT_THAT(load.sets, IsEmpty());
}

TEST(SpecLoader, PayloadPathsAreRelativeToTheSpecPath) {
  TestFolder dir;
  dir.Write("fleet/a.yaml", SetYaml("a", "payloads/p"));
  WritePayload(dir, "payloads/p");  // at the repo root: not where the spec looks
  SpecLoad load = Load(dir, "fleet");
  EXPECT_THAT(Problems(load),
              ElementsAre("fleet/a.yaml:10:13: error: payload 'p': folder 'payloads/p' does not "
                          "exist (looked for 'fleet/payloads/p' in folder " +
                          dir.path() + ")"));
}

TEST(SpecLoader, SymlinksInsideThePayloadMustStayInside) {
  TestFolder dir;
  dir.Write("a.yaml", SetYaml("a", "payloads/p"));
  WritePayload(dir, "payloads/p");
  dir.Symlink("payloads/p/ok", "install.sh");
  dir.Symlink("payloads/p/sub/ok2", "../install.sh");
  dir.Symlink("payloads/p/up", "../../a.yaml");
  dir.Symlink("payloads/p/abs", "/etc/passwd");
  SpecLoad load = Load(dir);
  EXPECT_THAT(Problems(load),
              ElementsAre("a.yaml:10:13: error: payload 'p': symlink 'abs' points outside the "
                          "payload folder (to '/etc/passwd')",
                          "a.yaml:10:13: error: payload 'p': symlink 'up' points outside the "
                          "payload folder (to '../../a.yaml')"));
}

TEST(SpecLoader, RunProgramMustBeAnExecutableFileInThePayload) {
  TestFolder dir;
  dir.Write("a.yaml", SetYaml("a", "payloads/a"));
  dir.Write("payloads/a/install.sh", "echo", 0644);
  dir.Write("b.yaml", SetYaml("b", "payloads/b"));
  dir.Write("payloads/b/other.sh", "echo", 0755);
  SpecLoad load = Load(dir);
  EXPECT_THAT(Problems(load),
              ElementsAre("a.yaml:10:13: error: payload 'p': run program './install.sh' is not "
                          "executable (chmod +x it, or run it through /bin/sh)",
                          "b.yaml:10:13: error: payload 'p': run program './install.sh' is not a "
                          "file in 'payloads/b'"));
}

// A set with one artifact payload on lines 8-12 (the source on line 11).
std::string ArtifactSetYaml(const std::string& name, const std::string& source,
                            const std::string& run, const std::string& extra = "") {
  return "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata:\n  name: " + name +
         "\nspec:\n  selector: {names: [\"*\"]}\n  payloads:\n"
         "    - name: p\n"
         "      version: \"1\"\n"
         "      run: " + run + "\n"
         "      " + source + "\n" + extra;
}

TEST(SpecLoader, RunProgramOfAnArtifactWithoutUnpackIsTheArtifactAlone) {
  const std::string sha(64, 'a');
  const std::string url = "url: {url: \"https://a.example/d/plugin-1.4.tgz?x=1\", sha256: \"" +
                          sha + "\"}";
  const std::string file = "file: {path: /srv/tool.run, sha256: \"" + sha + "\"}";
  TestFolder dir;
  dir.Write("a.yaml", ArtifactSetYaml("a", url, "[./install.sh]"));
  dir.Write("b.yaml", ArtifactSetYaml("b", file, "[./tool.run]"));
  dir.Write("c.yaml", ArtifactSetYaml("c", url, "[../x/y]"));
  // Known to hold: through an interpreter, a PATH lookup, an absolute path.
  dir.Write("d.yaml", ArtifactSetYaml("d", file, "[/bin/sh, ./tool.run]"));
  dir.Write("e.yaml", ArtifactSetYaml("e", url, "[tar, xf, plugin-1.4.tgz]"));
  // Unpacked: the tree is not known before the archive is fetched.
  dir.Write("f.yaml", ArtifactSetYaml("f", url, "[./install.sh]", "      unpack: true\n"));
  SpecLoad load = Load(dir);
  EXPECT_THAT(
      Problems(load),
      ElementsAre("a.yaml:11:12: error: payload 'p': run program './install.sh' is not in the "
                  "payload: without unpack the payload holds only the artifact, "
                  "'plugin-1.4.tgz' (add unpack: true for an archive)",
                  "b.yaml:11:13: error: payload 'p': run program './tool.run' is the artifact "
                  "itself, delivered with mode 0644 (not executable): run it through an "
                  "interpreter, e.g. [\"/bin/sh\", \"./tool.run\"]",
                  "c.yaml:11:12: error: payload 'p': run program '../x/y' leaves the payload "
                  "folder"));
  std::vector<std::string> names;
  for (const PayloadSet& s : load.sets) names.push_back(s.name);
  EXPECT_THAT(names, ElementsAre("d", "e", "f"));
}

TEST(SpecLoader, YamlInsidePayloadFoldersIsPayloadContent) {
  TestFolder dir;
  dir.Write("a.yaml", SetYaml("a", "payloads/p"));
  WritePayload(dir, "payloads/p");
  dir.Write("payloads/p/templates/broken.yaml", "key: {{ .Values.x }}\n");
  SpecLoad load = Load(dir);
  EXPECT_THAT(Problems(load), IsEmpty());
  EXPECT_THAT(load.files, ElementsAre("a.yaml"));
  EXPECT_THAT(load.ignored, ElementsAre(IgnoredDocument{"payloads/p/templates/broken.yaml", 0, 0, 0,
                                                        "inside payload folder 'payloads/p'"}));
}

TEST(SpecLoader, AFileThatIsNotYamlIsAnError) {
  TestFolder dir;
  dir.Write("junk.yaml",
            "\x7f"
            "ELF\x02\x01\x01");
  dir.Write("bad.yml", "a: [1, 2\n");
  SpecLoad load = Load(dir);
  EXPECT_THAT(Problems(load),
              ElementsAre("bad.yml:2:1: error: YAML syntax: end of sequence flow not found",
                          "junk.yaml:1:1: error: control character U+007F is not allowed in YAML"));
  EXPECT_EQ(load.files_with_errors(), 2);
}

TEST(SpecLoader, FileOverTheLimitIsALocatedError) {
  TestFolder dir;
  dir.Write("big.yaml", "# " + std::string(2 * 1024 * 1024, 'x') + "\n");
  SpecLoad load = Load(dir);
  EXPECT_THAT(Problems(load),
              ElementsAre("big.yaml:1:1: error: file is 2097155 bytes, over the limit of 1048576 "
                          "bytes for spec files"));
}

TEST(SpecLoader, SpecPathThatDoesNotExistIsAnError) {
  TestFolder dir;
  SpecLoad load = Load(dir, "nope");
  EXPECT_THAT(Problems(load),
              ElementsAre("nope: error: spec path 'nope' does not exist in folder " + dir.path()));
  EXPECT_FALSE(load.ok());
}

TEST(SpecLoader, EmptySpecPathIsValidWithAWarning) {
  TestFolder dir;
  SpecLoad load = Load(dir);
  EXPECT_TRUE(load.ok());
  EXPECT_THAT(Problems(load),
              ElementsAre(".: warning: no *.yaml or *.yml files under spec path '.'"));
}

TEST(SpecLoader, IgnoredDocumentsAreListed) {
  TestFolder dir;
  dir.Write("k8s.yaml", "apiVersion: v1\nkind: ConfigMap\n---\n[1, 2]\n");
  SpecLoad load = Load(dir);
  EXPECT_TRUE(load.ok());
  EXPECT_THAT(load.ignored,
              ElementsAre(IgnoredDocument{"k8s.yaml", 1, 1, 1, "apiVersion 'v1' is not gitdisc/v1"},
                          IgnoredDocument{"k8s.yaml", 2, 4, 1, "not a mapping"}));
}

TEST(SpecLoader, RejectsASpecPathThatIsNotNormal) {
  TestFolder dir;
  auto tree = OpenFolderTree(dir.path());
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(LoadSpecs(**tree, "../x").status().code(), Status::Code::kInvalid);
}

}  // namespace
}  // namespace gitdisc::specs
