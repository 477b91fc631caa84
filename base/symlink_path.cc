#include "base/symlink_path.h"

#include <deque>
#include <map>

namespace gitdisc {
namespace {

constexpr int kMaxSymlinkHops = 40;

std::vector<std::string> Split(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('/', start);
    if (end == std::string_view::npos) end = s.size();
    out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string JoinParts(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

}  // namespace

Result<std::string> ResolveSymlinkInFolder(
    std::string_view link, std::string_view target,
    const std::vector<std::pair<std::string, std::string>>& links) {
  std::map<std::string_view, std::string_view> by_path(links.begin(), links.end());
  auto leaves = [&](std::string why) {
    return Status::Invalid("symbolic link '" + std::string(link) + "' -> '" + std::string(target) +
                           "' " + why);
  };
  if (target.empty()) return leaves("has an empty target");
  if (target.front() == '/') return leaves("is absolute: it leaves the payload folder");

  std::vector<std::string> cur = Split(link);
  cur.pop_back();  // start in the link's own folder
  std::deque<std::string> todo;
  for (std::string& p : Split(target)) todo.push_back(std::move(p));
  int hops = 0;
  while (!todo.empty()) {
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (cur.empty()) return leaves("leaves the payload folder");
      cur.pop_back();
      continue;
    }
    cur.push_back(std::move(part));
    auto it = by_path.find(JoinParts(cur));
    if (it == by_path.end()) continue;
    if (++hops > kMaxSymlinkHops) return leaves("is part of a symbolic link loop");
    if (it->second.empty() || it->second.front() == '/') {
      return leaves("goes through '" + std::string(it->first) +
                    "', which leaves the payload folder");
    }
    cur.pop_back();
    std::vector<std::string> more = Split(it->second);
    todo.insert(todo.begin(), more.begin(), more.end());
  }
  return JoinParts(cur);
}

}  // namespace gitdisc
