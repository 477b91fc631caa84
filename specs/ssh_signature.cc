#include "specs/ssh_signature.h"

#include <time.h>

#include <algorithm>
#include <utility>

#include "base/base64.h"
#include "base/file_util.h"
#include "base/subprocess.h"
#include "base/temp_dir.h"
#include "specs/ssh_wire.h"

namespace gitdisc::specs {
namespace {

constexpr std::string_view kEnd = "-----END SSH SIGNATURE-----";
constexpr size_t kMaxDetail = 240;

// ssh-keygen's time format, in UTC: the commit's time, as git passes it.
std::string VerifyTime(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  ::gmtime_r(&t, &tm);
  char buf[32];
  ::strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
  return buf;
}

// The last non-empty line a helper wrote, bounded: why it refused.
std::string LastLine(const std::string& text) {
  std::string_view s = text;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.remove_suffix(1);
  }
  size_t nl = s.rfind('\n');
  if (nl != std::string_view::npos) s.remove_prefix(nl + 1);
  std::string out(s.substr(0, kMaxDetail));
  std::replace_if(out.begin(), out.end(), [](char c) { return c < 0x20; }, ' ');
  return out;
}

SignatureVerdict Verdict(const CommitSignatureData& commit, SignatureProblem problem,
                         std::string detail) {
  SignatureVerdict v;
  v.commit = commit.commit;
  v.format = "ssh";
  v.problem = problem;
  v.detail = std::move(detail);
  return v;
}

}  // namespace

Result<SshSignature> ParseSshSignature(std::string_view armored) {
  size_t begin = armored.find(kSshSignatureBegin);
  size_t end = armored.find(kEnd);
  if (begin == std::string_view::npos || end == std::string_view::npos || end < begin) {
    return Status::Invalid("not an armored SSH signature");
  }
  std::string body;
  for (char c : armored.substr(begin + kSshSignatureBegin.size(),
                               end - begin - kSshSignatureBegin.size())) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') body += c;
  }
  auto blob = DecodeBase64(body);
  if (!blob.ok()) return Status::Invalid("the SSH signature is not valid base64");
  SshWireReader r(*blob);
  auto magic = r.Raw(6);
  auto version = magic ? r.U32() : std::nullopt;
  if (!magic || *magic != "SSHSIG" || !version || *version != 1) {
    return Status::Invalid("not an SSHSIG version 1 signature");
  }
  auto key = r.String();
  auto ns = r.String();
  auto reserved = r.String();
  auto hash = r.String();
  auto signature = r.String();
  if (!key || !ns || !reserved || !hash || !signature || !r.empty()) {
    return Status::Invalid("truncated or malformed SSH signature");
  }
  return SshSignature{std::string(*key), std::string(*ns), std::string(*hash)};
}

SshSignatureVerifier::SshSignatureVerifier(AllowedSigners signers, SshVerifierOptions options)
    : signers_(std::move(signers)), options_(std::move(options)) {}

SignatureVerdict SshSignatureVerifier::Verify(const CommitSignatureData& commit) const {
  auto sig = ParseSshSignature(commit.signature);
  if (!sig.ok()) {
    return Verdict(commit, SignatureProblem::kBadSignature, sig.status().message());
  }
  if (sig->name_space != kGitSshNamespace) {
    return Verdict(commit, SignatureProblem::kNamespace,
                   "signed for namespace '" + sig->name_space + "', not 'git'");
  }
  std::vector<std::string> principals;
  bool any_entry = false;
  for (const AllowedSigner* e : signers_.ForKey(sig->public_key)) {
    any_entry = true;
    if (!e->AllowsNamespace(kGitSshNamespace)) continue;
    for (const std::string& p : e->principals) principals.push_back(p);
  }
  std::string fingerprint = SshFingerprint(sig->public_key);
  if (any_entry && principals.empty()) {
    SignatureVerdict v = Verdict(commit, SignatureProblem::kNamespace,
                                 "key " + fingerprint + " is not allowed to sign for namespace "
                                 "'git' in " + signers_.file());
    v.key = fingerprint;
    return v;
  }
  // ssh-keygen reads the signature from a file.
  auto dir = TempDir::Make("gitdisc-sshsig-");
  if (!dir.ok()) return Verdict(commit, SignatureProblem::kError, dir.status().message());
  std::string sig_file = dir->path() + "/signature";
  Status w = WriteFileAtomic(sig_file, commit.signature, 0600);
  if (!w.ok()) return Verdict(commit, SignatureProblem::kError, w.message());
  if (principals.empty() && signers_.HasCertAuthorities()) {
    // A certificate: only ssh-keygen knows which CA line covers it.
    auto found = FindPrincipals(sig_file);
    if (found.ok()) principals = std::move(found).value();
  }
  if (principals.empty()) {
    SignatureVerdict v = Verdict(commit, SignatureProblem::kUnknownKey,
                                 fingerprint + " is not in " + signers_.file());
    v.key = fingerprint;
    return v;
  }
  SignatureVerdict v = Check(commit, sig_file, principals);
  v.key = fingerprint;
  return v;
}

Result<std::vector<std::string>> SshSignatureVerifier::FindPrincipals(
    const std::string& sig_file) const {
  SubprocessSpec run;
  run.argv = {options_.ssh_keygen, "-Y", "find-principals", "-f", signers_.file(), "-s", sig_file};
  run.timeout = options_.timeout;
  GITDISC_ASSIGN_OR_RETURN(SubprocessResult r, RunSubprocess(run));
  if (!r.ok()) return Status::NotFound("no principal");
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < r.out.size()) {
    size_t nl = r.out.find('\n', pos);
    std::string line = r.out.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? r.out.size() : nl + 1;
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

SignatureVerdict SshSignatureVerifier::Check(const CommitSignatureData& commit,
                                             const std::string& sig_file,
                                             const std::vector<std::string>& principals) const {
  std::string refusal;
  for (const std::string& principal : principals) {
    SubprocessSpec run;
    run.argv = {options_.ssh_keygen, "-Y",     "verify",  "-f",     signers_.file(),
                "-I",                principal, "-n",      "git",    "-s",
                sig_file,            "-Overify-time=" + VerifyTime(commit.time)};
    run.stdin_data = commit.signed_data;
    run.timeout = options_.timeout;
    auto r = RunSubprocess(run);
    if (!r.ok()) {
      SignatureVerdict v = Verdict(commit, SignatureProblem::kError,
                                   "cannot run ssh-keygen: " + r.status().message());
      v.transient = true;
      return v;
    }
    if (r->timed_out) {
      SignatureVerdict v =
          Verdict(commit, SignatureProblem::kError, "ssh-keygen -Y verify passed its deadline");
      v.transient = true;
      return v;
    }
    if (r->exit_code == 0) {
      SignatureVerdict v = Verdict(commit, SignatureProblem::kNone, "");
      v.signer = principal;
      return v;
    }
    refusal = LastLine(r->err.empty() ? r->out : r->err);
  }
  return Verdict(commit, SignatureProblem::kBadSignature,
                 refusal.empty() ? "ssh-keygen refused the signature" : refusal);
}

}  // namespace gitdisc::specs
