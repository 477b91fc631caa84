// Repo paths: the '/'-separated, relative, normalised paths RepoTree speaks
// (specs/repo_tree.h), and the lexical operations the parser and the trees
// need on them. Pure functions, thread-safe.
#ifndef GITDISC_SPECS_REPO_PATH_H_
#define GITDISC_SPECS_REPO_PATH_H_

#include <optional>
#include <string>
#include <string_view>

namespace gitdisc::specs {

// True for "" (the root) and for "a/b/c" where no component is empty, "." or
// "..", and there is no leading or trailing '/'.
bool IsNormalRepoPath(std::string_view path);

// Lexically normalises a relative path: drops "." components, empty components
// (repeated or trailing '/') and resolves ".." against the components before
// it. nullopt when the path is absolute or ".." climbs above the root.
std::optional<std::string> NormaliseRepoPath(std::string_view path);

// "a" + "b" → "a/b"; "" + "b" → "b"; "a" + "" → "a".
std::string JoinRepoPath(std::string_view dir, std::string_view name);

// The parent folder of a normal path: "a/b" → "a", "a" → "".
std::string RepoPathParent(std::string_view path);

// True when `path` is `dir` or lies below it ("" contains everything).
bool RepoPathWithin(std::string_view path, std::string_view dir);

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_REPO_PATH_H_
