#include "iso/manifest.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "base/sha256.h"
#include "iso/bundle.h"

namespace gitdisc::iso {
namespace {

using Json = nlohmann::json;

Manifest Valid() {
  Manifest m;
  m.revision = "0123abcd";
  ManifestPayload p;
  p.name = "motd";
  p.version = "2";
  p.digest = Sha256Hex("motd");
  p.run = {"./install.sh"};
  p.env = {{"GREETING", "hello"}};
  p.timeout_seconds = 300;
  p.reboot = "ifRequested";
  p.after = {"base"};
  p.files = {{"install.sh", 10, 0100755, Sha256Hex("a")},
             {"etc/motd", 3, 0100644, Sha256Hex("b")},
             {"link", 8, 0120777, Sha256Hex("etc/motd")}};
  ManifestPayload q;
  q.name = "base";
  q.version = "1";
  q.digest = Sha256Hex("base");
  m.payloads = {p, q};
  m.digest = ComputeBundleDigest({p.digest, q.digest});
  return m;
}

TEST(Manifest, RenderIsCanonicalAndRoundTrips) {
  Manifest m = Valid();
  std::string text = RenderManifest(m);
  EXPECT_EQ(text.back(), '\n');
  // Payloads sorted by name, files by path, keys sorted.
  EXPECT_LT(text.find("\"name\":\"base\""), text.find("\"name\":\"motd\""));
  EXPECT_LT(text.find("etc/motd"), text.find("install.sh"));
  EXPECT_EQ(text.find("{\"digest\""), 0u);
  auto parsed = ParseManifest(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(RenderManifest(*parsed), text);
  EXPECT_NE(parsed->FindPayload("motd"), nullptr);
  EXPECT_EQ(parsed->FindPayload("nope"), nullptr);
}

// Regression (tests/fuzz/regressions/iso_manifest/unsorted_files_render_in_another_order.json):
// a document listing files or payloads out of order parsed to a value that
// rendered in another order and so did not parse back to itself.
TEST(Manifest, OutOfOrderDocumentParsesToTheCanonicalValue) {
  Manifest m = Valid();
  Json j = Json::parse(RenderManifest(m));
  std::swap(j["payloads"][0], j["payloads"][1]);  // motd before base
  auto& files = j["payloads"][0]["files"];
  Json reversed = Json::array();
  for (auto it = files.rbegin(); it != files.rend(); ++it) reversed.push_back(*it);
  files = reversed;  // link, install.sh, etc/motd
  auto parsed = ParseManifest(j.dump());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->payloads[0].name, "base");
  ASSERT_EQ(parsed->payloads[1].files.size(), 3u);
  EXPECT_EQ(parsed->payloads[1].files[0].path, "etc/motd");
  EXPECT_EQ(parsed->payloads[1].files[2].path, "link");
  auto back = ParseManifest(RenderManifest(*parsed));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, *parsed);
}

TEST(Manifest, BundleDigestDefinition) {
  // sha256 of the sorted payload digests joined by '\n'.
  std::string a(64, 'a'), b(64, 'b');
  EXPECT_EQ(ComputeBundleDigest({b, a}), Sha256Hex(a + "\n" + b));
  EXPECT_EQ(ComputeBundleDigest({}), Sha256Hex(""));
}

struct Case {
  const char* name;
  std::function<void(Json&)> mutate;
};

TEST(Manifest, RejectsEveryMalformedCase) {
  const std::vector<Case> cases = {
      {"not an object", [](Json& j) { j = Json::array(); }},
      {"unknown top key", [](Json& j) { j["extra"] = 1; }},
      {"missing digest", [](Json& j) { j.erase("digest"); }},
      {"format 2", [](Json& j) { j["format"] = 2; }},
      {"format string", [](Json& j) { j["format"] = "1"; }},
      {"digest short", [](Json& j) { j["digest"] = "abc"; }},
      {"digest upper",
       [](Json& j) {
         std::string d = j["digest"];
         for (char& c : d) c = static_cast<char>(toupper(c));
         j["digest"] = d;
       }},
      {"digest mismatch", [](Json& j) { j["digest"] = std::string(64, '0'); }},
      {"revision number", [](Json& j) { j["revision"] = 5; }},
      {"revision control char", [](Json& j) { j["revision"] = "a\nb"; }},
      {"payloads object", [](Json& j) { j["payloads"] = Json::object(); }},
      {"payload unknown key", [](Json& j) { j["payloads"][0]["x"] = 1; }},
      {"payload missing files", [](Json& j) { j["payloads"][0].erase("files"); }},
      {"name with slash", [](Json& j) { j["payloads"][0]["name"] = "a/b"; }},
      {"name dotdot", [](Json& j) { j["payloads"][0]["name"] = ".."; }},
      {"name empty", [](Json& j) { j["payloads"][0]["name"] = ""; }},
      {"duplicate payload", [](Json& j) { j["payloads"][1]["name"] = j["payloads"][0]["name"]; }},
      {"run not array", [](Json& j) { j["payloads"][0]["run"] = "./install.sh"; }},
      {"run with number", [](Json& j) { j["payloads"][0]["run"] = Json::array({1}); }},
      {"run empty arg", [](Json& j) { j["payloads"][0]["run"] = Json::array({""}); }},
      {"run NUL", [](Json& j) { j["payloads"][0]["run"] = Json::array({std::string("a\0b", 3)}); }},
      {"env array", [](Json& j) { j["payloads"][0]["env"] = Json::array(); }},
      {"env bad name", [](Json& j) { j["payloads"][0]["env"]["A=B"] = "x"; }},
      {"env digit name", [](Json& j) { j["payloads"][0]["env"]["1A"] = "x"; }},
      {"env value number", [](Json& j) { j["payloads"][0]["env"]["A"] = 1; }},
      {"timeout zero", [](Json& j) { j["payloads"][0]["timeout"] = 0; }},
      {"timeout negative", [](Json& j) { j["payloads"][0]["timeout"] = -5; }},
      {"timeout float", [](Json& j) { j["payloads"][0]["timeout"] = 1.5; }},
      {"timeout huge", [](Json& j) { j["payloads"][0]["timeout"] = 100000000; }},
      {"reboot bad", [](Json& j) { j["payloads"][0]["reboot"] = "sometimes"; }},
      {"after self",
       [](Json& j) { j["payloads"][0]["after"] = Json::array({j["payloads"][0]["name"]}); }},
      {"after bad name", [](Json& j) { j["payloads"][0]["after"] = Json::array({"../x"}); }},
      {"files object", [](Json& j) { j["payloads"][0]["files"] = Json::object(); }},
      {"file unknown key", [](Json& j) { j["payloads"][0]["files"][0]["x"] = 1; }},
      {"file absolute", [](Json& j) { j["payloads"][0]["files"][0]["path"] = "/etc/passwd"; }},
      {"file dotdot", [](Json& j) { j["payloads"][0]["files"][0]["path"] = "../../etc/passwd"; }},
      {"file inner dotdot", [](Json& j) { j["payloads"][0]["files"][0]["path"] = "a/../b"; }},
      {"file dot", [](Json& j) { j["payloads"][0]["files"][0]["path"] = "./a"; }},
      {"file double slash", [](Json& j) { j["payloads"][0]["files"][0]["path"] = "a//b"; }},
      {"file trailing slash", [](Json& j) { j["payloads"][0]["files"][0]["path"] = "a/"; }},
      {"file empty path", [](Json& j) { j["payloads"][0]["files"][0]["path"] = ""; }},
      {"file long component",
       [](Json& j) { j["payloads"][0]["files"][0]["path"] = std::string(256, 'a'); }},
      {"file duplicate",
       [](Json& j) {
         j["payloads"][0]["files"][1]["path"] = j["payloads"][0]["files"][0]["path"];
       }},
      {"file under file", [](Json& j) { j["payloads"][0]["files"][1]["path"] = "install.sh/x"; }},
      {"size negative", [](Json& j) { j["payloads"][0]["files"][0]["size"] = -1; }},
      {"size string", [](Json& j) { j["payloads"][0]["files"][0]["size"] = "10"; }},
      {"mode setuid", [](Json& j) { j["payloads"][0]["files"][0]["mode"] = 0104755; }},
      {"mode dir", [](Json& j) { j["payloads"][0]["files"][0]["mode"] = 040755; }},
      {"mode device", [](Json& j) { j["payloads"][0]["files"][0]["mode"] = 020644; }},
      {"mode no type", [](Json& j) { j["payloads"][0]["files"][0]["mode"] = 0644; }},
      {"symlink mode 0755", [](Json& j) { j["payloads"][0]["files"][2]["mode"] = 0120755; }},
      {"symlink empty", [](Json& j) { j["payloads"][0]["files"][2]["size"] = 0; }},
      {"sha bad", [](Json& j) { j["payloads"][0]["files"][0]["sha256"] = "zz"; }},
      {"payload digest bad", [](Json& j) { j["payloads"][0]["digest"] = 7; }},
  };
  Json base = Json::parse(RenderManifest(Valid()));
  for (const Case& c : cases) {
    Json j = base;
    c.mutate(j);
    auto r = ParseManifest(j.dump());
    EXPECT_FALSE(r.ok()) << c.name;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Status::Code::kCorrupt) << c.name;
    }
  }
}

TEST(Manifest, RejectsBadDocuments) {
  EXPECT_FALSE(ParseManifest("").ok());
  EXPECT_FALSE(ParseManifest("{").ok());
  EXPECT_FALSE(ParseManifest("null").ok());
  EXPECT_FALSE(ParseManifest("\xff\xfe").ok());
  EXPECT_FALSE(ParseManifest(std::string(100000, '[') + std::string(100000, ']')).ok());
  std::string huge(kMaxManifestBytes + 1, ' ');
  auto r = ParseManifest(huge);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("larger"), std::string::npos);
  // Trailing garbage after the document.
  EXPECT_FALSE(ParseManifest(RenderManifest(Valid()) + "{}").ok());
}

TEST(Manifest, ErrorsSayWhere) {
  Json j = Json::parse(RenderManifest(Valid()));
  j["payloads"][1]["files"][1]["path"] = "../x";
  auto r = ParseManifest(j.dump());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("payloads[1].files[1].path"), std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace gitdisc::iso

namespace gitdisc::iso {
namespace {

TEST(Manifest, PayloadDigestsRecomputeFromTheirEntriesAndCatchOtherCommands) {
  BundlePayload b;
  b.name = "app";
  b.version = "2";
  b.run = {"./install.sh", "--now"};
  b.env = {{"A", "1"}};
  b.reboot = "ifRequested";
  BundleFile f;
  f.path = "install.sh";
  f.mode = 0755;
  f.sha256 = Sha256Hex("x");
  BundleFile l;
  l.path = "link";
  l.mode = 0777;
  l.symlink_target = "install.sh";
  l.sha256 = Sha256Hex("install.sh");
  b.files = {f, l};
  ManifestPayload m;
  m.name = b.name;
  m.version = b.version;
  m.run = b.run;
  m.env = b.env;
  m.reboot = b.reboot;
  m.files = {{"install.sh", 1, kModeRegular | 0755, f.sha256},
             {"link", 10, kModeSymlink | 0777, l.sha256}};
  EXPECT_EQ(RecomputePayloadDigest(m), ComputePayloadDigest(b));
  m.run = {"./install.sh", "--evil"};
  EXPECT_NE(RecomputePayloadDigest(m), ComputePayloadDigest(b));
}

}  // namespace
}  // namespace gitdisc::iso
