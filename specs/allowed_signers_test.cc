#include "specs/allowed_signers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/base64.h"
#include "specs/ssh_signature.h"

namespace gitdisc::specs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Wire(std::string_view s) {
  std::string out(4, '\0');
  uint32_t n = static_cast<uint32_t>(s.size());
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((n >> (24 - 8 * i)) & 0xff);
  return out + std::string(s);
}

// A public key blob of the right shape (the parser does no crypto).
std::string Ed25519Blob(char fill) { return Wire("ssh-ed25519") + Wire(std::string(32, fill)); }
std::string KeyText(char fill) { return "ssh-ed25519 " + EncodeBase64(Ed25519Blob(fill)); }

TEST(AllowedSigners, ReadsPrincipalsOptionsAndKeys) {
  std::string text = "# team\n\n"
                     "alice@example.com " + KeyText('a') + " alice's laptop\n"
                     "\"bob@example.com,*@ops.example.com\" namespaces=\"git,file\" " +
                     KeyText('b') + "\n"
                     "ci@example.com cert-authority,valid-after=\"20240101\" " + KeyText('c') +
                     "\r\n";
  auto s = AllowedSigners::Parse(text, "signers");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->entries().size(), 3u);
  const AllowedSigner& alice = s->entries()[0];
  EXPECT_EQ(alice.line, 3);
  EXPECT_THAT(alice.principals, ElementsAre("alice@example.com"));
  EXPECT_EQ(alice.key_type, "ssh-ed25519");
  EXPECT_EQ(alice.key_blob, Ed25519Blob('a'));
  EXPECT_TRUE(alice.AllowsNamespace("git"));
  const AllowedSigner& bob = s->entries()[1];
  EXPECT_THAT(bob.principals, ElementsAre("bob@example.com", "*@ops.example.com"));
  EXPECT_THAT(bob.namespaces, ElementsAre("git", "file"));
  EXPECT_TRUE(bob.AllowsNamespace("git"));
  EXPECT_FALSE(bob.AllowsNamespace("mail"));
  EXPECT_TRUE(s->entries()[2].cert_authority);
  EXPECT_TRUE(s->HasCertAuthorities());
}

TEST(AllowedSigners, FindsEntriesByKeyButNotCertAuthorities) {
  std::string text = "a@x " + KeyText('a') + "\nb@x " + KeyText('a') + "\n" +
                     "ca@x cert-authority " + KeyText('c') + "\n";
  auto s = AllowedSigners::Parse(text, "signers");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->ForKey(Ed25519Blob('a')).size(), 2u);
  EXPECT_TRUE(s->ForKey(Ed25519Blob('c')).empty());
  EXPECT_TRUE(s->ForKey(Ed25519Blob('z')).empty());
}

TEST(AllowedSigners, ReportsEveryBadLineWithItsLocation) {
  std::string text = "alice@example.com " + KeyText('a') + "\n"
                     "bob@example.com ssh-ed25519 notbase64!\n"
                     "carol@example.com frobnicate " + KeyText('c') + "\n"
                     "dave@example.com \"unclosed " + KeyText('d') + "\n"
                     "eve@example.com ssh-rsa " + EncodeBase64(Ed25519Blob('e')) + "\n";
  auto s = AllowedSigners::Parse(text, "/etc/gitdisc/signers");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kInvalid);
  const std::string m = s.status().message();
  EXPECT_THAT(m, HasSubstr("/etc/gitdisc/signers:2: error: "));
  EXPECT_THAT(m, HasSubstr("/etc/gitdisc/signers:3: error: unknown option 'frobnicate'"));
  EXPECT_THAT(m, HasSubstr("/etc/gitdisc/signers:4: error: unbalanced double quote"));
  // A key whose blob says another type than the line.
  EXPECT_THAT(m, HasSubstr("/etc/gitdisc/signers:5: error: "));
  EXPECT_THAT(m, ::testing::Not(HasSubstr("signers:1:")));
}

TEST(AllowedSigners, AFileWithoutEntriesIsRefused) {
  auto s = AllowedSigners::Parse("# nobody yet\n\n", "signers");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("no allowed signers"));
}

TEST(AllowedSigners, AMissingFileSaysWhichFile) {
  auto s = AllowedSigners::Load("/nonexistent/allowed_signers");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("/nonexistent/allowed_signers"));
}

TEST(AllowedSigners, FingerprintIsSsh256Base64WithoutPadding) {
  std::string fp = SshFingerprint(Ed25519Blob('a'));
  EXPECT_EQ(fp.substr(0, 7), "SHA256:");
  EXPECT_EQ(fp.size(), 7u + 43u);
  EXPECT_EQ(fp.find('='), std::string::npos);
}

std::string Armor(const std::string& blob) {
  std::string b64 = EncodeBase64(blob);
  std::string out = "-----BEGIN SSH SIGNATURE-----\n";
  for (size_t i = 0; i < b64.size(); i += 70) out += b64.substr(i, 70) + "\n";
  return out + "-----END SSH SIGNATURE-----\n";
}

std::string SshSig(std::string_view ns, uint32_t version = 1) {
  std::string v(4, '\0');
  v[3] = static_cast<char>(version);
  return "SSHSIG" + v + Wire(Ed25519Blob('k')) + Wire(ns) + Wire("") + Wire("sha512") +
         Wire(Wire("ssh-ed25519") + Wire(std::string(64, 's')));
}

TEST(SshSignatureParse, ReadsKeyAndNamespace) {
  auto sig = ParseSshSignature(Armor(SshSig("git")));
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_EQ(sig->public_key, Ed25519Blob('k'));
  EXPECT_EQ(sig->name_space, "git");
  EXPECT_EQ(sig->hash_algorithm, "sha512");
  EXPECT_EQ(ParseSshSignature(Armor(SshSig("file")))->name_space, "file");
}

TEST(SshSignatureParse, RefusesMalformedSignatures) {
  EXPECT_FALSE(ParseSshSignature("-----BEGIN PGP SIGNATURE-----\n").ok());
  EXPECT_FALSE(ParseSshSignature(Armor("SSHSIG")).ok());                    // truncated
  EXPECT_FALSE(ParseSshSignature(Armor(SshSig("git", 2))).ok());            // version
  EXPECT_FALSE(ParseSshSignature(Armor("NOTSIG" + SshSig("git").substr(6))).ok());
  EXPECT_FALSE(ParseSshSignature(Armor(SshSig("git") + "x")).ok());         // trailing bytes
  std::string long_len = SshSig("git");
  long_len[10 + 3] = '\x7f';  // public key length far past the end
  EXPECT_FALSE(ParseSshSignature(Armor(long_len)).ok());
  EXPECT_FALSE(ParseSshSignature(
                   "-----BEGIN SSH SIGNATURE-----\n@@@@\n-----END SSH SIGNATURE-----\n")
                   .ok());
}

}  // namespace
}  // namespace gitdisc::specs
