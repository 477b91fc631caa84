// `gitdisc iso build DIR... -o FILE` and `gitdisc iso verify FILE`
// (DESIGN.md §4, §5): bundle ISOs from plain folders, and the check of an
// image against its manifest.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>

#include "iso/bundle.h"
#include "iso/folder_bundle.h"
#include "iso/iso_reader.h"
#include "iso/iso_writer.h"
#include "cli/commands.h"

namespace gitdisc::cli {
namespace {

struct BuildFlags {
  std::vector<std::string> dirs;
  std::string image;
  std::string label;
  std::string revision;
  std::vector<std::string> run;
  std::string version = "0";
  int64_t timeout_seconds = 600;
};

// Percentages for people: one self-overwriting line on a TTY, a plain line
// per 10% otherwise (logs stay readable).
class Progress {
 public:
  Progress(Io* io, std::string what) : io_(io), what_(std::move(what)) {}
  void Update(uint64_t done, uint64_t total) {
    int pct = total ? static_cast<int>(done * 100 / total) : 100;
    if (io_->out_is_tty) {
      if (pct != last_) io_->err << "\r" << what_ << ": " << pct << "%" << std::flush;
    } else if (pct / 10 != last_ / 10 || last_ < 0) {
      io_->err << what_ << ": " << pct << "%\n";
    }
    last_ = pct;
  }
  void Done() {
    if (io_->out_is_tty && last_ >= 0) io_->err << "\n";
  }

 private:
  Io* io_;
  std::string what_;
  int last_ = -1;
};

int RunBuild(const BuildFlags& f, const GlobalOptions& global, Io* io) {
  iso::Bundle bundle;
  bundle.revision = f.revision;
  bundle.source_date_epoch = iso::EffectiveSourceDateEpoch(0, std::getenv("SOURCE_DATE_EPOCH"));
  for (const std::string& dir : f.dirs) {
    iso::FolderPayloadOptions opts;
    opts.version = f.version;
    if (!f.run.empty()) opts.run = f.run;
    auto payload = iso::PayloadFromFolder(dir, opts);
    if (!payload.ok()) {
      io->err << "gitdisc iso build: " << payload.status().message() << "\n";
      return kExitError;
    }
    payload->timeout_seconds = f.timeout_seconds;
    bundle.payloads.push_back(std::move(payload).value());
  }
  iso::IsoWriteOptions wopts;
  wopts.label = f.label;
  Progress progress(io, "building " + f.image);
  if (!global.json()) {
    wopts.progress = [&progress](uint64_t done, uint64_t total) { progress.Update(done, total); };
  }
  auto written = iso::WriteBundleIso(bundle, f.image, wopts);
  progress.Done();
  if (!written.ok()) {
    io->err << "gitdisc iso build: " << written.status().message() << "\n";
    return kExitError;
  }
  if (global.json()) {
    nlohmann::json payloads = nlohmann::json::array();
    for (const iso::ManifestPayload& p : written->manifest.payloads) {
      payloads.push_back({{"name", p.name}, {"digest", p.digest}, {"files", p.files.size()}});
    }
    nlohmann::json j = {
        {"schemaVersion", 1}, {"digest", written->bundle_digest}, {"volumeId", written->volume_id},
        {"image", f.image},   {"bytes", written->image_bytes},    {"payloads", payloads}};
    io->out << j.dump(2) << "\n";
  } else {
    io->out << written->bundle_digest << "\n";
    if (global.verbose) {
      io->err << "wrote " << f.image << " (" << written->image_bytes << " bytes, volume "
              << written->volume_id << ")\n";
    }
  }
  return kExitOk;
}

int RunVerify(const std::string& image, const GlobalOptions& global, Io* io) {
  auto reader = iso::IsoReader::Open(image);
  if (!reader.ok()) {
    io->err << "gitdisc iso verify: " << reader.status().message() << "\n";
    return kExitError;
  }
  auto report = (*reader)->Verify();
  if (!report.ok()) {
    io->err << "gitdisc iso verify: " << report.status().message() << "\n";
    return kExitError;
  }
  if (global.json()) {
    auto list = [](const std::vector<iso::VerifyProblem>& v) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& p : v) a.push_back({{"path", p.path}, {"reason", p.reason}});
      return a;
    };
    nlohmann::json j = {{"schemaVersion", 1},
                        {"image", image},
                        {"ok", report->ok()},
                        {"digest", report->manifest.digest},
                        {"volumeId", (*reader)->volume_id()},
                        {"mismatches", list(report->mismatches)},
                        {"missing", list(report->missing)},
                        {"extra", list(report->extra)}};
    io->out << j.dump(2) << "\n";
  } else {
    for (const auto& p : report->mismatches)
      io->out << "mismatch " << p.path << ": " << p.reason << "\n";
    for (const auto& p : report->missing) io->out << "missing  " << p.path << "\n";
    for (const auto& p : report->extra)
      io->out << "extra    " << p.path << ": " << p.reason << "\n";
    if (report->ok()) {
      size_t files = 0;
      for (const auto& p : report->manifest.payloads) files += p.files.size();
      io->out << "ok " << report->manifest.digest << " (" << report->manifest.payloads.size()
              << " payloads, " << files << " files)\n";
    }
  }
  return report->ok() ? kExitOk : kExitFailed;
}

}  // namespace

Command IsoCommand() {
  return Command{
      "iso", "build or verify bundle ISO images",
      [](CLI::App* sub, const GlobalOptions* global, Io* io) -> std::function<int()> {
        sub->require_subcommand(1);
        auto flags = std::make_shared<BuildFlags>();
        auto verify_image = std::make_shared<std::string>();

        CLI::App* build = sub->add_subcommand(
            "build",
            "build a deterministic bundle ISO from folders (one payload per folder, named\n"
            "after it); prints the bundle digest. Exit 0 built, 2 error.");
        build->add_option("DIR", flags->dirs, "payload folder(s)")
            ->required()
            ->check(CLI::ExistingDirectory);
        build->add_option("-o,--image", flags->image, "the ISO file to write")->required();
        build->add_option("--label", flags->label,
                          "free text stored as the volume set ID (default GITDISC)");
        build->add_option("--revision", flags->revision,
                          "text recorded as the manifest's revision (default empty)");
        build->add_option("--run", flags->run,
                          "argv of each payload's run, one --run per argument (default\n"
                          "./install.sh when the folder has it, else nothing)");
        build->add_option("--payload-version", flags->version, "version of every payload")
            ->capture_default_str();
        build->add_option("--timeout", flags->timeout_seconds, "apply timeout in seconds")
            ->capture_default_str()
            ->check(CLI::Range(int64_t{1}, int64_t{30} * 24 * 3600));
        build->footer(
            "Times on the disc come from $SOURCE_DATE_EPOCH (default 1980-01-01): the same\n"
            "folders give the same bytes. Use the global -o json before 'iso' for JSON.");

        CLI::App* verify = sub->add_subcommand(
            "verify",
            "check an ISO against its manifest. Exit 0 ok, 1 mismatch (files named), 2\n"
            "unreadable.");
        verify->add_option("FILE", *verify_image, "image file or block device")->required();

        return [=]() -> int {
          if (build->parsed()) return RunBuild(*flags, *global, io);
          if (verify->parsed()) return RunVerify(*verify_image, *global, io);
          io->err << "gitdisc iso: choose build or verify\n";
          return kExitError;
        };
      }};
}

}  // namespace gitdisc::cli
