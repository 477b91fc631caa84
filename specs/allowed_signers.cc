#include "specs/allowed_signers.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "base/base64.h"
#include "base/file_util.h"
#include "base/sha256.h"
#include "specs/ssh_wire.h"

namespace gitdisc::specs {
namespace {

constexpr uint64_t kMaxFileBytes = 1 << 20;

// Whitespace-separated tokens; double quotes group (and are kept).
std::optional<std::vector<std::string>> Tokens(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  bool in_token = false;
  for (char c : line) {
    if (!quoted && (c == ' ' || c == '\t')) {
      if (in_token) out.push_back(std::move(cur));
      cur.clear();
      in_token = false;
      continue;
    }
    if (c == '"') quoted = !quoted;
    cur += c;
    in_token = true;
  }
  if (quoted) return std::nullopt;
  if (in_token) out.push_back(std::move(cur));
  return out;
}

std::string Unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

std::vector<std::string> SplitCommas(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : s) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) {
      out.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    cur += c;
  }
  out.push_back(std::move(cur));
  return out;
}

// The key blob when `b64` is a public key of type `type`.
std::optional<std::string> KeyOfType(const std::string& type, const std::string& b64) {
  auto blob = DecodeBase64(b64);
  if (!blob.ok()) return std::nullopt;
  SshWireReader r(*blob);
  auto name = r.String();
  if (!name || *name != type) return std::nullopt;
  return std::move(*blob);
}

// Applies one option to `e`; an error message when it is not understood.
std::optional<std::string> ApplyOption(const std::string& opt, AllowedSigner* e) {
  size_t eq = opt.find('=');
  std::string name = opt.substr(0, eq);
  std::transform(name.begin(), name.end(), name.begin(), ::tolower);
  if (name == "cert-authority" && eq == std::string::npos) {
    e->cert_authority = true;
    return std::nullopt;
  }
  if (eq == std::string::npos) return "unknown option '" + opt + "'";
  std::string value = Unquote(opt.substr(eq + 1));
  if (name == "namespaces") {
    e->namespaces = SplitCommas(value);
    return std::nullopt;
  }
  if (name == "valid-after" || name == "valid-before") return std::nullopt;  // ssh-keygen checks
  return "unknown option '" + name + "'";
}

// Parses one non-empty, non-comment line; an error message on failure.
std::optional<std::string> ParseLine(std::string_view line, AllowedSigner* e) {
  auto tokens = Tokens(line);
  if (!tokens) return std::string("unbalanced double quote");
  const std::vector<std::string>& t = *tokens;
  // The key type is the token followed by a base64 key of that type: either
  // right after the principals, or after one options token.
  size_t type_at = 0;
  for (size_t k : {size_t{1}, size_t{2}}) {
    if (k + 1 < t.size() && KeyOfType(t[k], t[k + 1])) {
      type_at = k;
      break;
    }
  }
  if (type_at == 0) {
    return std::string(
        "expected 'principals [options] keytype base64-key' (no public key found)");
  }
  for (const std::string& p : SplitCommas(Unquote(t[0]))) {
    if (p.empty()) return std::string("empty principal");
    e->principals.push_back(p);
  }
  if (type_at == 2) {
    for (const std::string& opt : SplitCommas(t[1])) {
      if (auto err = ApplyOption(opt, e)) return err;
    }
  }
  e->key_type = t[type_at];
  e->key_blob = *KeyOfType(t[type_at], t[type_at + 1]);
  return std::nullopt;
}

}  // namespace

bool AllowedSigner::AllowsNamespace(std::string_view ns) const {
  return namespaces.empty() ||
         std::find(namespaces.begin(), namespaces.end(), ns) != namespaces.end();
}

Result<AllowedSigners> AllowedSigners::Parse(std::string_view text, const std::string& file) {
  AllowedSigners out;
  out.file_ = file;
  std::string errors;
  int lineno = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    AllowedSigner e;
    e.line = lineno;
    if (auto err = ParseLine(line.substr(first), &e)) {
      errors += (errors.empty() ? "" : "\n") + file + ":" + std::to_string(lineno) +
                ": error: " + *err;
      continue;
    }
    out.entries_.push_back(std::move(e));
  }
  if (!errors.empty()) return Status::Invalid(errors);
  if (out.entries_.empty()) {
    return Status::Invalid(file + ": error: no allowed signers (every commit would be refused)");
  }
  return out;
}

Result<AllowedSigners> AllowedSigners::Load(const std::string& path) {
  auto text = ReadFile(path, kMaxFileBytes);
  if (!text.ok()) return text.status().Annotate("allowed signers file");
  return Parse(*text, path);
}

std::vector<const AllowedSigner*> AllowedSigners::ForKey(std::string_view key_blob) const {
  std::vector<const AllowedSigner*> out;
  for (const AllowedSigner& e : entries_) {
    if (!e.cert_authority && e.key_blob == key_blob) out.push_back(&e);
  }
  return out;
}

bool AllowedSigners::HasCertAuthorities() const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [](const AllowedSigner& e) { return e.cert_authority; });
}

std::string SshFingerprint(std::string_view key_blob) {
  Sha256Bytes d;
  Sha256Hasher h;
  h.Update(key_blob);
  d = h.Finish();
  std::string b64 = EncodeBase64(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return "SHA256:" + b64;
}

}  // namespace gitdisc::specs
