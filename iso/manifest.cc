#include "iso/manifest.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "base/sha256.h"
#include "iso/bundle.h"

namespace gitdisc::iso {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxDepth = 8;
constexpr size_t kMaxPayloads = 4096;
constexpr size_t kMaxFiles = 1000000;
constexpr size_t kMaxArgs = 256;
constexpr size_t kMaxArgBytes = 4096;
constexpr size_t kMaxEnv = 1024;
constexpr size_t kMaxEnvValueBytes = 65536;
constexpr size_t kMaxShortString = 256;
constexpr size_t kMaxSymlinkBytes = 4096;
constexpr int64_t kMaxTimeoutSeconds = 30 * 24 * 3600;

// Rejects nesting deeper than kMaxDepth before nlohmann builds anything.
bool DepthWithin(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

class Checker {
 public:
  Status Fail(const std::string& where, const std::string& what) {
    return Status::Corrupt("manifest: " + where + ": " + what);
  }

  Status Keys(const Json& obj, const std::string& where, const std::set<std::string>& allowed) {
    if (!obj.is_object()) return Fail(where, "must be an object");
    for (const auto& [k, v] : obj.items()) {
      if (!allowed.count(k)) return Fail(where, "unknown key \"" + k + "\"");
    }
    for (const std::string& k : allowed) {
      if (!obj.contains(k)) return Fail(where, "missing key \"" + k + "\"");
    }
    return Status::Ok();
  }

  Status String(const Json& v, const std::string& where, size_t max, std::string* out,
                bool allow_empty = true) {
    if (!v.is_string()) return Fail(where, "must be a string");
    const std::string& s = v.get_ref<const std::string&>();
    if (s.size() > max) return Fail(where, "longer than " + std::to_string(max) + " bytes");
    if (s.find('\0') != std::string::npos) return Fail(where, "holds a NUL byte");
    if (!allow_empty && s.empty()) return Fail(where, "must not be empty");
    *out = s;
    return Status::Ok();
  }

  Status Digest(const Json& v, const std::string& where, std::string* out) {
    GITDISC_RETURN_IF_ERROR(String(v, where, 64, out));
    if (!IsSha256Hex(*out)) return Fail(where, "must be 64 hex digits");
    for (char c : *out) {
      if (c >= 'A' && c <= 'F') return Fail(where, "must be lower-case hex");
    }
    return Status::Ok();
  }

  Status Unsigned(const Json& v, const std::string& where, uint64_t max, uint64_t* out) {
    if (!v.is_number_unsigned()) return Fail(where, "must be a non-negative integer");
    uint64_t n = v.get<uint64_t>();
    if (n > max) return Fail(where, "out of range");
    *out = n;
    return Status::Ok();
  }

  Status StringArray(const Json& v, const std::string& where, size_t max_items, size_t max_bytes,
                     std::vector<std::string>* out) {
    if (!v.is_array()) return Fail(where, "must be an array");
    if (v.size() > max_items)
      return Fail(where, "more than " + std::to_string(max_items) + " items");
    for (size_t i = 0; i < v.size(); ++i) {
      std::string s;
      GITDISC_RETURN_IF_ERROR(
          String(v[i], where + "[" + std::to_string(i) + "]", max_bytes, &s, false));
      out->push_back(std::move(s));
    }
    return Status::Ok();
  }

  Status File(const Json& v, const std::string& where, ManifestFile* f) {
    GITDISC_RETURN_IF_ERROR(Keys(v, where, {"path", "size", "mode", "sha256"}));
    GITDISC_RETURN_IF_ERROR(String(v["path"], where + ".path", 4096, &f->path));
    if (!IsValidRelativePath(f->path)) {
      return Fail(where + ".path", "\"" + f->path + "\" is not a normalised relative path");
    }
    uint64_t mode = 0;
    GITDISC_RETURN_IF_ERROR(Unsigned(v["mode"], where + ".mode", 0177777, &mode));
    f->mode = static_cast<uint32_t>(mode);
    bool regular = (mode & kModeTypeMask) == kModeRegular && (mode & ~(kModeTypeMask | 0777)) == 0;
    bool symlink = mode == (kModeSymlink | 0777);
    if (!regular && !symlink) {
      return Fail(where + ".mode",
                  "must be a regular file (0100000|perm<=0777) or a symlink "
                  "(0120777)");
    }
    GITDISC_RETURN_IF_ERROR(
        Unsigned(v["size"], where + ".size", symlink ? kMaxSymlinkBytes : (1ull << 53), &f->size));
    if (symlink && f->size == 0) return Fail(where + ".size", "symlink with an empty target");
    return Digest(v["sha256"], where + ".sha256", &f->sha256);
  }

  Status Payload(const Json& v, const std::string& where, ManifestPayload* p) {
    GITDISC_RETURN_IF_ERROR(
        Keys(v, where,
             {"name", "version", "digest", "run", "env", "timeout", "reboot", "after", "files"}));
    GITDISC_RETURN_IF_ERROR(String(v["name"], where + ".name", 63, &p->name));
    if (!IsValidPayloadName(p->name)) return Fail(where + ".name", "not a valid payload name");
    GITDISC_RETURN_IF_ERROR(String(v["version"], where + ".version", kMaxShortString, &p->version));
    GITDISC_RETURN_IF_ERROR(Digest(v["digest"], where + ".digest", &p->digest));
    GITDISC_RETURN_IF_ERROR(StringArray(v["run"], where + ".run", kMaxArgs, kMaxArgBytes, &p->run));
    const Json& env = v["env"];
    if (!env.is_object()) return Fail(where + ".env", "must be an object");
    if (env.size() > kMaxEnv) return Fail(where + ".env", "too many variables");
    for (const auto& [k, val] : env.items()) {
      bool ok = !k.empty() && k.size() <= kMaxShortString && !(k[0] >= '0' && k[0] <= '9');
      for (char c : k) {
        ok = ok && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_');
      }
      if (!ok) return Fail(where + ".env", "\"" + k + "\" is not a variable name");
      std::string s;
      GITDISC_RETURN_IF_ERROR(String(val, where + ".env." + k, kMaxEnvValueBytes, &s));
      p->env[k] = std::move(s);
    }
    uint64_t timeout = 0;
    GITDISC_RETURN_IF_ERROR(
        Unsigned(v["timeout"], where + ".timeout", kMaxTimeoutSeconds, &timeout));
    if (timeout == 0) return Fail(where + ".timeout", "must be at least 1 second");
    p->timeout_seconds = static_cast<int64_t>(timeout);
    GITDISC_RETURN_IF_ERROR(String(v["reboot"], where + ".reboot", 16, &p->reboot));
    if (p->reboot != "never" && p->reboot != "ifRequested" && p->reboot != "always") {
      return Fail(where + ".reboot", "must be never, ifRequested or always");
    }
    GITDISC_RETURN_IF_ERROR(StringArray(v["after"], where + ".after", kMaxArgs, 63, &p->after));
    for (size_t i = 0; i < p->after.size(); ++i) {
      if (!IsValidPayloadName(p->after[i]) || p->after[i] == p->name) {
        return Fail(where + ".after[" + std::to_string(i) + "]", "not a valid other payload");
      }
    }
    const Json& files = v["files"];
    if (!files.is_array()) return Fail(where + ".files", "must be an array");
    if (files.size() > kMaxFiles) return Fail(where + ".files", "too many files");
    std::set<std::string> paths;
    for (size_t i = 0; i < files.size(); ++i) {
      ManifestFile f;
      std::string fw = where + ".files[" + std::to_string(i) + "]";
      GITDISC_RETURN_IF_ERROR(File(files[i], fw, &f));
      if (!paths.insert(f.path).second) return Fail(fw + ".path", "\"" + f.path + "\" twice");
      p->files.push_back(std::move(f));
    }
    for (const std::string& path : paths) {
      auto lo = paths.lower_bound(path + "/");
      if (lo != paths.end() && lo->compare(0, path.size() + 1, path + "/") == 0) {
        return Fail(where + ".files", "\"" + path + "\" is both a file and a folder");
      }
    }
    return Status::Ok();
  }
};

}  // namespace

const ManifestPayload* Manifest::FindPayload(std::string_view name) const {
  for (const ManifestPayload& p : payloads) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::string RecomputePayloadDigest(const ManifestPayload& p) {
  BundlePayload b;
  b.name = p.name;
  b.version = p.version;
  b.run = p.run;
  b.env = p.env;
  b.reboot = p.reboot;
  for (const ManifestFile& f : p.files) {
    BundleFile bf;
    bf.path = f.path;
    bf.mode = f.mode & 0777;
    bf.sha256 = f.sha256;
    if (f.is_symlink()) bf.symlink_target = "-";  // only its presence counts
    b.files.push_back(std::move(bf));
  }
  return ComputePayloadDigest(b);
}

std::string RenderManifest(const Manifest& manifest) {
  std::vector<const ManifestPayload*> payloads;
  for (const ManifestPayload& p : manifest.payloads) payloads.push_back(&p);
  std::sort(payloads.begin(), payloads.end(),
            [](const ManifestPayload* a, const ManifestPayload* b) { return a->name < b->name; });
  Json jp = Json::array();
  for (const ManifestPayload* p : payloads) {
    std::vector<const ManifestFile*> files;
    for (const ManifestFile& f : p->files) files.push_back(&f);
    std::sort(files.begin(), files.end(),
              [](const ManifestFile* a, const ManifestFile* b) { return a->path < b->path; });
    Json jf = Json::array();
    for (const ManifestFile* f : files) {
      jf.push_back(
          {{"path", f->path}, {"size", f->size}, {"mode", f->mode}, {"sha256", f->sha256}});
    }
    jp.push_back({{"name", p->name},
                  {"version", p->version},
                  {"digest", p->digest},
                  {"run", p->run},
                  {"env", p->env},
                  {"timeout", p->timeout_seconds},
                  {"reboot", p->reboot},
                  {"after", p->after},
                  {"files", std::move(jf)}});
  }
  Json j = {{"format", manifest.format},
            {"digest", manifest.digest},
            {"revision", manifest.revision},
            {"payloads", std::move(jp)}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

Result<Manifest> ParseManifest(std::string_view text) {
  Checker c;
  if (text.size() > kMaxManifestBytes) {
    return c.Fail("(document)", "larger than " + std::to_string(kMaxManifestBytes) + " bytes");
  }
  if (!DepthWithin(text, kMaxDepth)) return c.Fail("(document)", "nested too deeply");
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return c.Fail("(document)", "not valid JSON");
  GITDISC_RETURN_IF_ERROR(c.Keys(j, "(document)", {"format", "digest", "revision", "payloads"}));
  Manifest m;
  if (!j["format"].is_number_integer() || j["format"].get<int64_t>() != kManifestFormat) {
    return c.Fail("format", "must be 1");
  }
  GITDISC_RETURN_IF_ERROR(c.Digest(j["digest"], "digest", &m.digest));
  GITDISC_RETURN_IF_ERROR(c.String(j["revision"], "revision", kMaxShortString, &m.revision));
  for (char ch : m.revision) {
    if (static_cast<unsigned char>(ch) < 0x20)
      return c.Fail("revision", "holds control characters");
  }
  const Json& payloads = j["payloads"];
  if (!payloads.is_array()) return c.Fail("payloads", "must be an array");
  if (payloads.size() > kMaxPayloads) return c.Fail("payloads", "too many payloads");
  std::set<std::string> names;
  size_t total_files = 0;
  std::vector<std::string> digests;
  for (size_t i = 0; i < payloads.size(); ++i) {
    ManifestPayload p;
    std::string where = "payloads[" + std::to_string(i) + "]";
    GITDISC_RETURN_IF_ERROR(c.Payload(payloads[i], where, &p));
    if (!names.insert(p.name).second) return c.Fail(where + ".name", p.name + " twice");
    total_files += p.files.size();
    if (total_files > kMaxFiles) return c.Fail(where + ".files", "too many files in the bundle");
    digests.push_back(p.digest);
    m.payloads.push_back(std::move(p));
  }
  if (ComputeBundleDigest(digests) != m.digest) {
    return c.Fail("digest", "does not match the payload digests");
  }
  // The value is canonical whatever order the document listed things in, as
  // RenderManifest writes them: payloads by name, files by path. (Found by
  // the manifest fuzzer: an unsorted file list rendered back in another order.)
  std::sort(m.payloads.begin(), m.payloads.end(),
            [](const ManifestPayload& a, const ManifestPayload& b) { return a.name < b.name; });
  for (ManifestPayload& p : m.payloads) {
    std::sort(p.files.begin(), p.files.end(),
              [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; });
  }
  return m;
}

}  // namespace gitdisc::iso
