#include "specs/payload_content.h"

#include <algorithm>
#include <map>
#include <utility>

#include "base/sha256.h"
#include "base/symlink_path.h"

namespace gitdisc::specs {
namespace {

const char* TypeName(RepoTree::Type t) {
  switch (t) {
    case RepoTree::Type::kFile:
      return "file";
    case RepoTree::Type::kDir:
      return "folder";
    case RepoTree::Type::kSymlink:
      return "symbolic link";
    case RepoTree::Type::kSubmodule:
      return "submodule";
  }
  return "?";
}

}  // namespace

Result<std::vector<PayloadFile>> ListPayloadFolder(const RepoTree& tree, std::string_view folder,
                                                   const PayloadLimits& limits) {
  const std::string where = "payload folder '" + std::string(folder) + "' in " + tree.Describe();
  auto root = tree.Stat(folder);
  if (!root.ok()) {
    if (root.status().IsNotFound()) return Status::NotFound(where + ": does not exist");
    return root.status().Annotate(where);
  }
  if (root->type != RepoTree::Type::kDir) {
    return Status::Invalid(where + ": is a " + TypeName(root->type) + ", not a folder");
  }
  auto entries = tree.List(folder, /*recursive=*/true);
  if (!entries.ok()) return entries.status().Annotate(where);

  const size_t prefix = folder.empty() ? 0 : folder.size() + 1;
  std::vector<PayloadFile> files;
  std::vector<std::pair<std::string, std::string>> links;
  for (const RepoTree::Entry& e : *entries) {
    std::string rel = e.path.substr(prefix);
    switch (e.type) {
      case RepoTree::Type::kDir:
        continue;
      case RepoTree::Type::kSubmodule:
        return Status::Invalid(where + ": '" + rel +
                               "' is a Git submodule; payload folders cannot hold submodules");
      case RepoTree::Type::kSymlink: {
        auto target = tree.ReadLink(e.path);
        if (!target.ok()) return target.status().Annotate(where);
        PayloadFile f;
        f.path = rel;
        f.mode = 0777;
        f.size = target->size();
        f.sha256 = Sha256Hex(*target);
        f.symlink_target = *target;
        if (f.symlink_target.empty()) {
          return Status::Invalid(where + ": symbolic link '" + rel + "' has an empty target");
        }
        links.emplace_back(rel, *target);
        files.push_back(std::move(f));
        break;
      }
      case RepoTree::Type::kFile: {
        if (e.size > limits.max_file_bytes) {
          return Status::Invalid(where + ": '" + rel + "' is " + std::to_string(e.size) +
                                 " bytes, over the limit of " +
                                 std::to_string(limits.max_file_bytes) + " bytes");
        }
        PayloadFile f;
        f.path = rel;
        f.mode = (e.mode & 0111) != 0 ? 0755 : 0644;
        f.size = e.size;
        files.push_back(std::move(f));
        break;
      }
    }
    if (files.size() > limits.max_files) {
      return Status::Invalid(where + ": more than " + std::to_string(limits.max_files) + " files");
    }
  }
  for (const auto& [link, target] : links) {
    auto resolved = ResolveSymlinkInFolder(link, target, links);
    if (!resolved.ok()) return resolved.status().Annotate(where);
  }
  // Hash last: cheap structural errors above come before reading any blob.
  for (PayloadFile& f : files) {
    if (f.is_symlink()) continue;
    std::string path = prefix == 0 ? f.path : std::string(folder) + "/" + f.path;
    auto data = tree.ReadFile(path, limits.max_file_bytes);
    if (!data.ok()) return data.status().Annotate(where);
    f.size = data->size();
    f.sha256 = Sha256Hex(*data);
  }
  std::sort(files.begin(), files.end(),
            [](const PayloadFile& a, const PayloadFile& b) { return a.path < b.path; });
  return files;
}

std::string ArtifactFileName(const PayloadSource& source) {
  std::string_view s;
  if (const auto* f = std::get_if<FileSource>(&source)) {
    s = f->path;
  } else if (const auto* u = std::get_if<UrlSource>(&source)) {
    s = u->url;
    size_t cut = s.find_first_of("?#");
    if (cut != std::string_view::npos) s = s.substr(0, cut);
    size_t scheme = s.find("://");
    if (scheme != std::string_view::npos) {
      s = s.substr(scheme + 3);
      size_t slash = s.find('/');
      s = slash == std::string_view::npos ? std::string_view() : s.substr(slash);
    }
  } else {
    return "";
  }
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  size_t slash = s.rfind('/');
  if (slash != std::string_view::npos) s = s.substr(slash + 1);
  if (s.empty() || s == "." || s == "..") return "artifact";
  return std::string(s);
}

PayloadFile ArtifactPayloadFile(const PayloadSource& source, uint64_t size) {
  PayloadFile f;
  f.path = ArtifactFileName(source);
  f.mode = 0644;
  f.size = size;
  if (const auto* fs = std::get_if<FileSource>(&source)) f.sha256 = fs->sha256;
  if (const auto* us = std::get_if<UrlSource>(&source)) f.sha256 = us->sha256;
  return f;
}

namespace {
// The position of the path/file/url value when the parser records it.
template <typename P>
SourcePos BestPos(const P& p) {
  if constexpr (requires { p.source_pos; }) {
    if (p.source_pos.line > 0) return p.source_pos;
  }
  return p.pos;
}
}  // namespace

Diagnostic LocateError(const Payload& payload, const Status& error) {
  Diagnostic d;
  d.pos = BestPos(payload);
  d.severity = Diagnostic::Severity::kError;
  d.message = "payload '" + payload.name + "': " + error.message();
  return d;
}

}  // namespace gitdisc::specs
