// Signing keys and signed commits for tests against real Git: SSH keys made
// with ssh-keygen, a throwaway GnuPG home with a key made by gpg (no
// passphrase), commits signed by `git commit -S`, and hand-made commit
// objects (tampered, or signed for another namespace) written with
// `git hash-object`. Nothing here reads or writes the user's ~/.ssh or
// ~/.gnupg.
#ifndef GITDISC_TESTS_GIT_SIGNING_FIXTURE_H_
#define GITDISC_TESTS_GIT_SIGNING_FIXTURE_H_

#include <array>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "tests/git/git_test_util.h"

namespace gitdisc::testing {

// Runs a shell command; its stdout (trailing newlines cut). Throws when it fails.
inline std::string Shell(const std::string& cmd) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) throw std::runtime_error("popen failed");
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  if (::pclose(p) != 0) throw std::runtime_error(cmd + " failed: " + out);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// An ed25519 key pair made by ssh-keygen: `path` is the private key.
class SshKey {
 public:
  SshKey(const std::string& dir, const std::string& name) : path_(dir + "/" + name) {
    Shell("ssh-keygen -q -t ed25519 -N '' -C " + ShellQuote(name) + " -f " + ShellQuote(path_));
  }
  const std::string& path() const { return path_; }
  // "ssh-ed25519 AAAA…" (type and key, no comment).
  std::string PublicKey() const { return Shell("cut -d' ' -f1,2 " + ShellQuote(path_ + ".pub")); }
  // One allowed_signers line for this key.
  std::string SignerLine(const std::string& principal, const std::string& options = "") const {
    return principal + " " + (options.empty() ? "" : options + " ") + PublicKey() + "\n";
  }
  // An armored SSH signature of `file` for namespace `ns`.
  std::string Sign(const std::string& file, const std::string& ns) const {
    Shell("ssh-keygen -q -Y sign -f " + ShellQuote(path_) + " -n " + ShellQuote(ns) + " " +
          ShellQuote(file));
    return Shell("cat " + ShellQuote(file + ".sig"));
  }

 private:
  std::string path_;
};

// A GnuPG home of its own with one signing key (no passphrase); the agent
// that signing starts is stopped on destruction.
class GpgKey {
 public:
  GpgKey(const std::string& dir, const std::string& uid) : home_(dir) {
    std::filesystem::create_directories(home_);
    ::chmod(home_.c_str(), 0700);
    Gpg("--quick-gen-key " + ShellQuote(uid) + " ed25519 sign never");
    fingerprint_ = Shell("GNUPGHOME=" + ShellQuote(home_) +
                         " gpg --batch --with-colons --list-secret-keys | "
                         "awk -F: '/^fpr:/ {print $10; exit}'");
  }
  ~GpgKey() {
    std::string cmd = "gpgconf --homedir " + ShellQuote(home_) + " --kill all >/dev/null 2>&1";
    (void)std::system(cmd.c_str());
  }
  GpgKey(const GpgKey&) = delete;
  GpgKey& operator=(const GpgKey&) = delete;

  const std::string& home() const { return home_; }
  const std::string& fingerprint() const { return fingerprint_; }
  // Writes the public key (binary, as `gpg --export`) to `file`.
  void ExportTo(const std::string& file, bool armor = false) const {
    Gpg(std::string(armor ? "--armor " : "") + "--output " + ShellQuote(file) + " --export " +
        fingerprint_);
  }
  // `git -c …` options that make `git commit -S` sign with this key.
  std::string GitSigningOptions() const {
    return "-c gpg.format=openpgp -c user.signingkey=" + fingerprint_;
  }

 private:
  void Gpg(const std::string& args) const {
    Shell("GNUPGHOME=" + ShellQuote(home_) +
          " gpg --batch --pinentry-mode loopback --passphrase '' " + args);
  }
  std::string home_;
  std::string fingerprint_;
};

// `git commit -S` in `repo` with extra env/options (e.g. GNUPGHOME).
inline std::string CommitSigned(WorkRepo& repo, const std::string& git_options,
                                const std::string& message, const std::string& env = "") {
  Git(repo.path(), "add -A");
  Shell(env + " " + GitEnv() + "git -C " + ShellQuote(repo.path()) + " " + git_options +
        " commit -q -S --allow-empty -m " + ShellQuote(message));
  return Git(repo.path(), "rev-parse HEAD");
}

inline std::string SshSigningOptions(const SshKey& key) {
  return "-c gpg.format=ssh -c user.signingkey=" + ShellQuote(key.path());
}

// Writes a commit object given as text and points HEAD's branch at it.
inline std::string WriteCommitObject(WorkRepo& repo, const std::string& object) {
  std::string file = repo.path() + "/.git/gitdisc-test-object";
  WriteText(file, object);
  std::string sha = Git(repo.path(), "hash-object -t commit -w " + ShellQuote(file));
  Git(repo.path(), "update-ref HEAD " + sha);
  return sha;
}

// `object` (an unsigned commit's text) with `armored` as its gpgsig header.
inline std::string WithSignature(const std::string& object, const std::string& armored) {
  size_t end = object.find("\n\n");
  std::string header = "gpgsig";
  std::string sig = armored;
  while (!sig.empty() && sig.back() == '\n') sig.pop_back();
  size_t pos = 0;
  bool first = true;
  while (pos <= sig.size()) {
    size_t nl = sig.find('\n', pos);
    std::string line = sig.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    header += (first ? " " : "\n ") + line;
    first = false;
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return object.substr(0, end) + "\n" + header + object.substr(end);
}

}  // namespace gitdisc::testing

#endif  // GITDISC_TESTS_GIT_SIGNING_FIXTURE_H_
