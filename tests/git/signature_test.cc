// Signed commits only (docs/git-source.md "Signed commits"): real `git`
// histories signed with SSH keys made by ssh-keygen and with a throwaway
// GnuPG key, checked by Source with an allowed_signers file or a keyring.
// Signed → accepted; unsigned, unknown key, bad signature (a tampered commit
// object), wrong namespace, and in mode `all` an unsigned commit in the
// middle → refused, the newest valid revision staying on the verified one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "specs/gpg_signature.h"
#include "specs/signature_policy.h"
#include "specs/source.h"
#include "specs/ssh_signature.h"
#include "tests/git/git_test_util.h"
#include "tests/git/signing_fixture.h"
#include "tests/git/spec_fixture.h"

namespace gitdisc::specs {
namespace {

using gitdisc::testing::CommitSigned;
using gitdisc::testing::FixturePayload;
using gitdisc::testing::GpgKey;
using gitdisc::testing::SetYaml;
using gitdisc::testing::SshKey;
using gitdisc::testing::SshSigningOptions;
using gitdisc::testing::TempDir;
using gitdisc::testing::WithSignature;
using gitdisc::testing::WorkRepo;
using gitdisc::testing::WriteCommitObject;
using gitdisc::testing::WriteText;
using ::testing::HasSubstr;

class SignatureTest : public ::testing::Test {
 protected:
  SignatureTest() : alice_(keys_.path(), "alice"), mallory_(keys_.path(), "mallory") {
    WriteText(signers_, alice_.SignerLine("alice@example.com"));
  }

  void WriteSpecs(const std::string& version) {
    w_.Write("payloads/motd/install.sh", "#!/bin/sh\necho " + version + "\n", 0755);
    w_.Write("web.yaml", SetYaml("web", {FixturePayload("motd", version)}));
  }
  std::string CommitBy(const SshKey& key, const std::string& version) {
    WriteSpecs(version);
    return CommitSigned(w_, SshSigningOptions(key), "motd " + version);
  }
  std::string CommitUnsigned(const std::string& version) {
    WriteSpecs(version);
    return w_.Commit("motd " + version + " (unsigned)");
  }

  std::unique_ptr<Source> Open(VerifyMode mode = VerifyMode::kTip, std::string keyring = "",
                               bool ssh = true) {
    SourceOptions o;
    o.repo = w_.path();
    o.state_dir = state_.path();
    if (ssh) o.verify.allowed_signers_file = signers_;
    o.verify.gpg_keyring_file = std::move(keyring);
    o.verify.mode = mode;
    auto s = Source::Open(lib_, o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // Alice signs the tip; her allowed_signers line carries `options`.
  SignatureVerdict VerdictOnAliceTip(const std::string& options) {
    WriteText(signers_, alice_.SignerLine("alice@example.com", options));
    CommitBy(alice_, "1");
    auto src = Open();
    if (src == nullptr) return SignatureVerdict{};
    auto v = src->Verify("");
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : SignatureVerdict{};
  }

  GitLibrary lib_;
  TempDir keys_;
  TempDir state_;
  WorkRepo w_;
  SshKey alice_;
  SshKey mallory_;
  std::string signers_ = keys_ / "allowed_signers";
};

TEST_F(SignatureTest, ASshSignedTipByAnAllowedSignerIsAccepted) {
  std::string tip = CommitBy(alice_, "1");
  auto src = Open();
  ASSERT_NE(src, nullptr);
  auto st = src->State();
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->newest_valid, tip);
  EXPECT_TRUE(st->invalid.empty());
  auto v = src->Verify("");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->verified()) << v->Reason();
  EXPECT_EQ(v->format, "ssh");
  EXPECT_EQ(v->signer, "alice@example.com");
  EXPECT_EQ(v->key.substr(0, 7), "SHA256:");
}

TEST_F(SignatureTest, AnUnsignedTipIsRefusedAndItsSpecsAreNeverRead) {
  std::string good = CommitBy(alice_, "1");
  w_.Write("web.yaml", "apiVersion: gitdisc/v1\nkind: PayloadSet\n: : not yaml [\n");
  std::string unsigned_tip = w_.Commit("broken and unsigned");
  auto src = Open();
  ASSERT_NE(src, nullptr);
  auto st = src->State();
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->tip, unsigned_tip);
  EXPECT_EQ(st->newest_valid, good);
  ASSERT_EQ(st->invalid.size(), 1u);
  const InvalidRevision& inv = st->invalid[0];
  ASSERT_TRUE(inv.signature.has_value());
  EXPECT_EQ(inv.signature->problem, SignatureProblem::kUnsigned);
  EXPECT_EQ(inv.signature->commit, unsigned_tip);
  // Only the signature is reported: the YAML of an unverified commit is not parsed.
  ASSERT_EQ(inv.diagnostics.size(), 1u);
  EXPECT_EQ(inv.diagnostics[0].ToString(),
            "commit " + unsigned_tip.substr(0, 7) +
                ": error: signature: unsigned: the commit carries no signature");
}

TEST_F(SignatureTest, ACommitByAKeyNotInAllowedSignersIsAnUnknownKey) {
  std::string good = CommitBy(alice_, "1");
  std::string bad = CommitBy(mallory_, "2");
  auto src = Open();
  ASSERT_NE(src, nullptr);
  auto st = src->State();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->newest_valid, good);
  ASSERT_EQ(st->invalid.size(), 1u);
  ASSERT_TRUE(st->invalid[0].signature.has_value());
  EXPECT_EQ(st->invalid[0].signature->problem, SignatureProblem::kUnknownKey);
  EXPECT_THAT(st->invalid[0].signature->Reason(), HasSubstr("is not in " + signers_));
  EXPECT_THAT(st->invalid[0].diagnostics[0].message, HasSubstr("signature: unknown key"));
}

TEST_F(SignatureTest, ATamperedSignedCommitHasABadSignature) {
  std::string good = CommitBy(alice_, "1");
  CommitBy(alice_, "2");
  // The same signed object with its message changed, written by hand.
  std::string object = w_.Run("cat-file commit HEAD");
  size_t at = object.rfind("motd 2");
  ASSERT_NE(at, std::string::npos);
  object.replace(at, 6, "motd 9");
  std::string tampered = WriteCommitObject(w_, object + "\n");
  auto src = Open();
  ASSERT_NE(src, nullptr);
  auto st = src->State();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->tip, tampered);
  EXPECT_EQ(st->newest_valid, good);
  ASSERT_EQ(st->invalid.size(), 1u);
  ASSERT_TRUE(st->invalid[0].signature.has_value());
  EXPECT_EQ(st->invalid[0].signature->problem, SignatureProblem::kBadSignature)
      << st->invalid[0].signature->Reason();
  EXPECT_THAT(st->invalid[0].signature->detail, HasSubstr("incorrect signature"));
}

TEST_F(SignatureTest, ASignatureMadeForAnotherNamespaceIsRefused) {
  std::string good = CommitBy(alice_, "1");
  CommitUnsigned("2");
  std::string payload_file = keys_ / "payload";
  WriteText(payload_file, w_.Run("cat-file commit HEAD") + "\n");
  std::string object = w_.Run("cat-file commit HEAD") + "\n";
  std::string signed_for_file = WriteCommitObject(
      w_, WithSignature(object, alice_.Sign(payload_file, "file")));
  auto src = Open();
  ASSERT_NE(src, nullptr);
  auto st = src->State();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->tip, signed_for_file);
  EXPECT_EQ(st->newest_valid, good);
  ASSERT_FALSE(st->invalid.empty());
  ASSERT_TRUE(st->invalid[0].signature.has_value());
  EXPECT_EQ(st->invalid[0].signature->problem, SignatureProblem::kNamespace);
  EXPECT_THAT(st->invalid[0].signature->detail, HasSubstr("namespace 'file'"));
}

TEST_F(SignatureTest, AKeyNotAllowedForTheGitNamespaceIsANamespaceRefusal) {
  SignatureVerdict v = VerdictOnAliceTip("namespaces=\"file\"");
  EXPECT_EQ(v.problem, SignatureProblem::kNamespace) << v.Reason();
}

TEST_F(SignatureTest, AKeyPastItsValidBeforeDateIsRefusedAsABadSignature) {
  SignatureVerdict v = VerdictOnAliceTip("valid-before=\"20000101\"");
  EXPECT_EQ(v.problem, SignatureProblem::kBadSignature) << v.Reason();
  EXPECT_THAT(v.detail, HasSubstr("expired"));
}

TEST_F(SignatureTest, ModeTipAcceptsASignedTipOverAnUnsignedParent) {
  CommitBy(alice_, "1");
  CommitUnsigned("2");
  std::string tip = CommitBy(alice_, "3");
  auto src = Open(VerifyMode::kTip);
  ASSERT_NE(src, nullptr);
  auto st = src->State();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->newest_valid, tip);
}

TEST_F(SignatureTest, ModeAllRefusesAnUnsignedCommitInTheMiddleAndStaysOnTheVerifiedRevision) {
  std::string verified = CommitBy(alice_, "1");
  {
    // The fleet is on `verified`: it becomes the anchor.
    auto src = Open(VerifyMode::kAll);
    ASSERT_NE(src, nullptr);
    auto st = src->State();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->newest_valid, verified);
  }
  std::string middle = CommitUnsigned("2");
  std::string tip = CommitBy(alice_, "3");
  auto src = Open(VerifyMode::kAll);  // a restart: the anchor is read back
  ASSERT_NE(src, nullptr);
  auto st = src->State();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->tip, tip);
  EXPECT_EQ(st->newest_valid, verified);
  ASSERT_EQ(st->invalid.size(), 2u);
  ASSERT_TRUE(st->invalid[0].signature.has_value());
  EXPECT_EQ(st->invalid[0].revision, tip);
  // The tip is signed; what refuses it is the unsigned commit below it.
  EXPECT_EQ(st->invalid[0].signature->commit, middle);
  EXPECT_EQ(st->invalid[0].signature->problem, SignatureProblem::kUnsigned);
  EXPECT_THAT(st->invalid[0].signature->detail, HasSubstr("since the last verified revision"));
  EXPECT_EQ(st->invalid[1].revision, middle);

  // A signed commit on top does not heal the history: still refused.
  CommitBy(alice_, "4");
  st = src->State();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->newest_valid, verified);
}

TEST_F(SignatureTest, ModeAllWithoutAnAnchorNeedsTheWholeHistorySigned) {
  std::string first = CommitBy(alice_, "1");
  CommitUnsigned("2");
  CommitBy(alice_, "3");
  auto src = Open(VerifyMode::kAll);
  ASSERT_NE(src, nullptr);
  auto st = src->State();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->newest_valid, first);
}

TEST_F(SignatureTest, ModeAllAcceptsAHistorySignedThroughoutIncludingMergedCommits) {
  CommitBy(alice_, "1");
  w_.Run("checkout -q -b topic");
  CommitBy(alice_, "2");
  w_.Run("checkout -q main");
  w_.Write("other.txt", "x\n");
  CommitSigned(w_, SshSigningOptions(alice_), "other");
  gitdisc::testing::Shell(gitdisc::testing::GitEnv() + "git -C " +
                          gitdisc::testing::ShellQuote(w_.path()) + " " +
                          SshSigningOptions(alice_) + " merge -q -S --no-edit topic");
  std::string merge = w_.Run("rev-parse HEAD");
  auto src = Open(VerifyMode::kAll);
  ASSERT_NE(src, nullptr);
  auto st = src->State();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->newest_valid, merge);

  // An unsigned commit merged in from a side branch is caught too.
  w_.Run("checkout -q -b side");
  CommitUnsigned("5");
  w_.Run("checkout -q main");
  gitdisc::testing::Shell(gitdisc::testing::GitEnv() + "git -C " +
                          gitdisc::testing::ShellQuote(w_.path()) + " " +
                          SshSigningOptions(alice_) + " merge -q -S --no-ff --no-edit side");
  st = src->State();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->newest_valid, merge);
  ASSERT_FALSE(st->invalid.empty());
  EXPECT_EQ(st->invalid[0].signature->problem, SignatureProblem::kUnsigned);
}

size_t CountGnupgHomes() {
  size_t n = 0;
  for (auto& e : std::filesystem::directory_iterator("/tmp")) {
    n += e.path().filename().string().rfind("gitdisc-gnupg-", 0) == 0;
  }
  return n;
}

class GpgSignatureTest : public SignatureTest {
 protected:
  GpgSignatureTest()
      : trusted_(keys_ / "gnupg-alice", "Alice <alice@example.com>"),
        stranger_(keys_ / "gnupg-eve", "Eve <eve@example.com>") {
    trusted_.ExportTo(keyring_);
  }
  std::string CommitByGpg(const GpgKey& key, const std::string& version) {
    WriteSpecs(version);
    return CommitSigned(w_, key.GitSigningOptions(), "motd " + version,
                        "GNUPGHOME=" + gitdisc::testing::ShellQuote(key.home()));
  }
  GpgKey trusted_;
  GpgKey stranger_;
  std::string keyring_ = keys_ / "trusted.gpg";
};

TEST_F(GpgSignatureTest, AnOpenPgpSignedTipByAKeyInTheKeyringIsAccepted) {
  std::string tip = CommitByGpg(trusted_, "1");
  auto src = Open(VerifyMode::kTip, keyring_, /*ssh=*/false);
  ASSERT_NE(src, nullptr);
  auto st = src->State();
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->newest_valid, tip);
  auto v = src->Verify("");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->verified()) << v->Reason();
  EXPECT_EQ(v->format, "openpgp");
  EXPECT_EQ(v->key, trusted_.fingerprint());
  EXPECT_EQ(v->signer, "Alice <alice@example.com>");
}

TEST_F(GpgSignatureTest, UnknownKeyTamperedAndUnconfiguredFormatsAreRefused) {
  std::string good = CommitByGpg(trusted_, "1");
  std::string by_stranger = CommitByGpg(stranger_, "2");
  auto src = Open(VerifyMode::kTip, keyring_, /*ssh=*/false);
  ASSERT_NE(src, nullptr);
  auto v = src->Verify(by_stranger);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->problem, SignatureProblem::kUnknownKey) << v->Reason();
  EXPECT_THAT(v->detail, HasSubstr(keyring_));

  std::string object = w_.Run("cat-file commit " + good);
  object.replace(object.rfind("motd 1"), 6, "motd 7");
  std::string tampered = WriteCommitObject(w_, object + "\n");
  v = src->Verify(tampered);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->problem, SignatureProblem::kBadSignature) << v->Reason();

  // An SSH-signed commit while only a keyring is configured, on top of the
  // stranger's commit (the tampered object is left aside).
  w_.Run("reset -q --hard " + by_stranger);
  std::string ssh_signed = CommitBy(alice_, "3");
  v = src->Verify(ssh_signed);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->problem, SignatureProblem::kUnsupported) << v->Reason();

  auto st = src->State();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->newest_valid, good);
  ASSERT_EQ(st->invalid.size(), 2u);
  EXPECT_EQ(st->invalid[0].revision, ssh_signed);
  EXPECT_EQ(st->invalid[1].revision, by_stranger);
}

TEST_F(GpgSignatureTest, BothKeySetsTogetherAcceptBothFormats) {
  CommitByGpg(trusted_, "1");
  std::string tip = CommitBy(alice_, "2");
  auto src = Open(VerifyMode::kAll, keyring_, /*ssh=*/true);
  ASSERT_NE(src, nullptr);
  auto st = src->State();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->newest_valid, tip);
}

TEST_F(GpgSignatureTest, AnArmoredKeyringWorksAndTheIsolatedHomeIsRemoved) {
  std::string armored = keys_ / "trusted.asc";
  trusted_.ExportTo(armored, /*armor=*/true);
  std::string tip = CommitByGpg(trusted_, "1");
  GitLibrary lib;
  auto repo = GitRepository::Open(lib, w_.path(), {});
  ASSERT_TRUE(repo.ok());
  auto data = (*repo)->Signature(tip);
  ASSERT_TRUE(data.ok());
  size_t homes_before = CountGnupgHomes();
  {
    auto gpg = GpgSignatureVerifier::Open(armored);
    ASSERT_TRUE(gpg.ok()) << gpg.status().ToString();
    EXPECT_EQ((*gpg)->key_count(), 1);
    EXPECT_TRUE((*gpg)->Verify(*data).verified());
  }
  EXPECT_LE(CountGnupgHomes(), homes_before);
}

TEST_F(GpgSignatureTest, AKeyringWithoutKeysIsRefusedUpFront) {
  WriteText(keys_ / "empty.gpg", "");
  SourceOptions o;
  o.repo = w_.path();
  o.state_dir = state_.path();
  o.verify.gpg_keyring_file = keys_ / "empty.gpg";
  CommitByGpg(trusted_, "1");
  auto s = Source::Open(lib_, o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kInvalid);
  EXPECT_THAT(s.status().message(), HasSubstr("no OpenPGP public key"));
}

TEST_F(SignatureTest, AnSshKeygenPastItsDeadlineIsATransientErrorNeverAVerification) {
  CommitBy(alice_, "1");
  std::string slow = keys_ / "slow-ssh-keygen";
  WriteText(slow, "#!/bin/sh\nexec sleep 30\n", 0755);
  auto signers = AllowedSigners::Load(signers_);
  ASSERT_TRUE(signers.ok());
  SshSignatureVerifier verifier(std::move(signers).value(),
                                {slow, std::chrono::milliseconds(200)});
  GitLibrary lib;
  auto repo = GitRepository::Open(lib, w_.path(), {});
  ASSERT_TRUE(repo.ok());
  auto data = (*repo)->Signature(w_.Run("rev-parse HEAD"));
  ASSERT_TRUE(data.ok());
  auto start = std::chrono::steady_clock::now();
  SignatureVerdict v = verifier.Verify(*data);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(v.problem, SignatureProblem::kError);
  EXPECT_TRUE(v.transient);
  EXPECT_THAT(v.detail, HasSubstr("deadline"));
}

TEST_F(SignatureTest, AMalformedAllowedSignersFileIsRefusedUpFrontWithItsLine) {
  WriteText(signers_, alice_.SignerLine("alice@example.com") + "bob@example.com garbage\n");
  SourceOptions o;
  o.repo = w_.path();
  o.state_dir = state_.path();
  o.verify.allowed_signers_file = signers_;
  CommitBy(alice_, "1");
  auto s = Source::Open(lib_, o);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr(signers_ + ":2: error:"));
}

}  // namespace
}  // namespace gitdisc::specs
