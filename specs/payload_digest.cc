#include "specs/payload_digest.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/sha256.h"

namespace gitdisc::specs {
namespace {

nlohmann::json FilesJson(const std::vector<PayloadFile>& files) {
  std::vector<const PayloadFile*> sorted;
  sorted.reserve(files.size());
  for (const PayloadFile& f : files) sorted.push_back(&f);
  std::sort(sorted.begin(), sorted.end(),
            [](const PayloadFile* a, const PayloadFile* b) { return a->path < b->path; });
  nlohmann::json out = nlohmann::json::array();
  for (const PayloadFile* f : sorted) {
    out.push_back({{"path", f->path}, {"mode", f->PosixMode()}, {"sha256", f->sha256}});
  }
  return out;
}

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string PayloadIdentityEncoding(const Payload& payload, const std::vector<PayloadFile>& files) {
  nlohmann::json j = {{"name", payload.name},
                      {"version", payload.version},
                      {"run", payload.run},
                      {"env", payload.env},
                      {"reboot", RebootPolicyName(payload.reboot)},
                      {"files", FilesJson(files)}};
  return Dump(j);
}

std::string PayloadDigest(const Payload& payload, const std::vector<PayloadFile>& files) {
  return Sha256Hex(PayloadIdentityEncoding(payload, files));
}

std::string ContentDigest(const std::vector<PayloadFile>& files) {
  return Sha256Hex(Dump(FilesJson(files)));
}

}  // namespace gitdisc::specs
