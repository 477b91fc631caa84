// git_source_bench [SETS] [FILES_PER_PAYLOAD] [BYTES_PER_FILE]
//
// Builds a repository with `git fast-import` in a temp folder: SETS spec files
// (default 1,000), each one PayloadSet with one payload whose folder holds
// FILES_PER_PAYLOAD files (default 10, so 10,000 payload files) of
// BYTES_PER_FILE bytes (default 1,024). Then measures, at one revision:
//   cold   a new Source and an empty state dir: open, load + validate every
//          spec, list and hash every payload folder, digest every payload;
//   disk   a new Source on the same state dir (a restarted daemon): folder
//          listings come from STATE/digests;
//   memory the same Source again on a new commit that changed one payload
//          folder: one folder is hashed, the rest come from memory.
// Prints one line per phase. Not a test: nothing is asserted beyond success.
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "specs/source.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string Env() {
  return "GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@b GIT_COMMITTER_NAME=b GIT_COMMITTER_EMAIL=b@b "
         "GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null ";
}

int Sh(const std::string& cmd) { return std::system((Env() + cmd).c_str()); }

std::string SpecYaml(int i) {
  std::string n = std::to_string(i);
  return "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata:\n  name: set-" + n +
         "\nspec:\n  selector:\n    matchLabels: {group: g" + n + "}\n  payloads:\n    - name: p-" +
         n + "\n      version: \"1\"\n      path: payloads/p-" + n +
         "\n      run: [\"./f0\"]\n  rollout:\n    maxParallel: 10%\n";
}

void Blob(std::string* out, const std::string& path, const std::string& content, bool exec) {
  *out += std::string("M ") + (exec ? "100755" : "100644") + " inline " + path + "\ndata " +
          std::to_string(content.size()) + "\n" + content + "\n";
}

// CPU time of this process: wall time on a shared, loaded machine mostly
// measures the neighbours.
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Phase {
  double seconds;
  double cpu;
  size_t payloads;
  gitdisc::specs::PayloadContentCache::Stats stats;
};

Phase Measure(gitdisc::specs::Source& src, const std::string& rev) {
  auto before = src.content_cache().stats();
  auto t0 = Clock::now();
  double c0 = CpuSeconds();
  auto snap = src.Load(rev);
  if (!snap.ok() || !(*snap)->valid()) {
    std::cerr << "load failed: "
              << (snap.ok() ? (*snap)->diagnostics().at(0).ToString() : snap.status().ToString())
              << "\n";
    std::exit(2);
  }
  size_t n = 0;
  for (const auto& set : (*snap)->load().sets) {
    for (const auto& p : set.payloads) {
      auto d = (*snap)->Digest(p);
      if (!d.ok()) {
        std::cerr << d.status().ToString() << "\n";
        std::exit(2);
      }
      ++n;
    }
  }
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  auto after = src.content_cache().stats();
  after.misses -= before.misses;
  after.memory_hits -= before.memory_hits;
  after.disk_hits -= before.disk_hits;
  return Phase{s, CpuSeconds() - c0, n, after};
}

void Print(const char* name, const Phase& p) {
  std::printf(
      "%-7s %7.3f s wall %7.3f s cpu  %zu payloads digested  (folders hashed %llu, from memory "
      "%llu, "
      "from disk %llu)\n",
      name, p.seconds, p.cpu, p.payloads, static_cast<unsigned long long>(p.stats.misses),
      static_cast<unsigned long long>(p.stats.memory_hits),
      static_cast<unsigned long long>(p.stats.disk_hits));
}

}  // namespace

int main(int argc, char** argv) {
  int sets = argc > 1 ? std::atoi(argv[1]) : 1000;
  int files = argc > 2 ? std::atoi(argv[2]) : 10;
  int bytes = argc > 3 ? std::atoi(argv[3]) : 1024;
  std::string tmpl = (std::filesystem::temp_directory_path() / "gitdisc-bench-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return 2;
  const std::string root = tmpl;
  const std::string repo = root + "/repo";
  const std::string state = root + "/state";

  std::string stream =
      "commit refs/heads/main\ncommitter b <b@b> 1700000000 +0000\ndata 5\nbench\n";
  std::string filler(static_cast<size_t>(bytes), 'x');
  for (int i = 0; i < sets; ++i) {
    Blob(&stream, "specs/set-" + std::to_string(i) + ".yaml", SpecYaml(i), false);
    for (int f = 0; f < files; ++f) {
      std::string content = "payload " + std::to_string(i) + " file " + std::to_string(f) + "\n";
      content +=
          filler.substr(0, filler.size() > content.size() ? filler.size() - content.size() : 0);
      Blob(&stream, "payloads/p-" + std::to_string(i) + "/f" + std::to_string(f), content, f == 0);
    }
  }
  {
    std::filesystem::create_directories(repo);
    std::FILE* fi = std::fopen((root + "/stream.fi").c_str(), "w");
    std::fwrite(stream.data(), 1, stream.size(), fi);
    std::fclose(fi);
  }
  if (Sh("git -c init.defaultBranch=main -C " + repo + " init -q && git -C " + repo +
         " fast-import --quiet < " + root + "/stream.fi") != 0) {
    std::cerr << "fast-import failed\n";
    return 2;
  }
  {
    // Spec loading alone (parse + validate, including the loader's own
    // payload folder checks), for scale.
    gitdisc::specs::GitLibrary l;
    gitdisc::specs::GitOpenOptions go;
    auto r = gitdisc::specs::GitRepository::Open(l, repo, go);
    if (!r.ok()) return 2;
    auto tree = (*r)->TreeAt("main");
    if (!tree.ok()) return 2;
    auto t0 = Clock::now();
    double c0 = CpuSeconds();
    auto load = gitdisc::specs::LoadSpecs(**tree, "");
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("LoadSpecs alone: %.3f s wall %.3f s cpu (%zu sets, ok=%d)\n", s, CpuSeconds() - c0,
                load.ok() ? load->sets.size() : 0, load.ok() && load->ok() ? 1 : 0);
  }
  std::printf("repository: %d spec files, %d payload files of %d bytes (fast-import, packed)\n",
              sets, sets * files, bytes);

  gitdisc::specs::GitLibrary lib;
  gitdisc::specs::SourceOptions o;
  o.repo = repo;
  o.state_dir = state;
  o.spec_path = "";
  {
    auto src = gitdisc::specs::Source::Open(lib, o);
    if (!src.ok()) return 2;
    Print("cold", Measure(**src, "main"));
  }
  {
    auto src = gitdisc::specs::Source::Open(lib, o);
    if (!src.ok()) return 2;
    Print("disk", Measure(**src, "main"));

    // One folder changes in a new commit; everything else is known by tree id.
    std::string second =
        "commit refs/heads/main\ncommitter b <b@b> 1700000100 +0000\ndata 4\nedit\nfrom "
        "refs/heads/main^0\n";
    Blob(&second, "payloads/p-0/f1", "changed\n", false);
    {
      std::FILE* fi = std::fopen((root + "/second.fi").c_str(), "w");
      std::fwrite(second.data(), 1, second.size(), fi);
      std::fclose(fi);
    }
    if (Sh("git -C " + repo + " fast-import --quiet --force < " + root + "/second.fi") != 0)
      return 2;
    Print("memory", Measure(**src, "main"));
  }
  std::filesystem::remove_all(root);
  return 0;
}
