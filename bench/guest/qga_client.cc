#include "bench/guest/qga_client.h"

#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <openssl/evp.h>

#include <chrono>
#include <thread>

namespace gitdisc::bench {
namespace {

Status LibvirtError(const std::string& what) {
  const virError* e = virGetLastError();
  return Status::Unavailable(what + ": " + (e && e->message ? e->message : "unknown error"));
}

std::string Base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string Unbase64(const std::string& b64) {
  std::string out(3 * b64.size() / 4 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  if (n < 0) return "";
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  if (!b64.empty() && b64.back() == '=') --len;
  if (b64.size() > 1 && b64[b64.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

}  // namespace

struct QgaClient::Handles {
  virConnectPtr conn = nullptr;
  virDomainPtr dom = nullptr;
  ~Handles() {
    if (dom) virDomainFree(dom);
    if (conn) virConnectClose(conn);
  }
};

QgaClient::QgaClient(std::unique_ptr<Handles> h) : h_(std::move(h)) {}
QgaClient::~QgaClient() = default;

Result<std::unique_ptr<QgaClient>> QgaClient::Open(const std::string& uri,
                                                   const std::string& domain_name) {
  auto h = std::make_unique<Handles>();
  h->conn = virConnectOpen(uri.c_str());
  if (!h->conn) return LibvirtError("virConnectOpen " + uri);
  h->dom = virDomainLookupByName(h->conn, domain_name.c_str());
  if (!h->dom) return LibvirtError("virDomainLookupByName " + domain_name);
  return std::unique_ptr<QgaClient>(new QgaClient(std::move(h)));
}

Result<nlohmann::json> QgaClient::Command(const nlohmann::json& command, int timeout_seconds) {
  std::string text = command.dump();
  char* reply = virDomainQemuAgentCommand(h_->dom, text.c_str(), timeout_seconds, 0);
  if (!reply) return LibvirtError("qemu-agent-command " + command.value("execute", "?"));
  std::string r(reply);
  free(reply);
  try {
    nlohmann::json j = nlohmann::json::parse(r);
    if (j.contains("error")) return Status::Internal("qemu-ga: " + j["error"].dump());
    return j.at("return");
  } catch (const nlohmann::json::exception& e) {
    return Status::Corrupt(std::string("qemu-ga reply: ") + e.what());
  }
}

Status QgaClient::WaitReady(int seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  Status last;
  while (std::chrono::steady_clock::now() < end) {
    auto r = Command({{"execute", "guest-ping"}}, 2);
    if (r.ok()) return Status::Ok();
    last = r.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return Status::Timeout("qemu-ga did not answer: " + last.message());
}

Status QgaClient::WriteFile(const std::string& path, std::string_view data, size_t chunk) {
  auto handle =
      Command({{"execute", "guest-file-open"}, {"arguments", {{"path", path}, {"mode", "w"}}}});
  if (!handle.ok()) return handle.status();
  int64_t h = handle->get<int64_t>();
  for (size_t at = 0; at < data.size(); at += chunk) {
    std::string_view part = data.substr(at, chunk);
    auto w = Command({{"execute", "guest-file-write"},
                      {"arguments", {{"handle", h}, {"buf-b64", Base64(part)}}}},
                     120);
    if (!w.ok()) return w.status();
    if (w->value("count", int64_t{-1}) != static_cast<int64_t>(part.size())) {
      return Status::Io("qemu-ga wrote " + w->dump() + " of " + std::to_string(part.size()));
    }
  }
  auto c = Command({{"execute", "guest-file-close"}, {"arguments", {{"handle", h}}}});
  return c.ok() ? Status::Ok() : c.status();
}

Result<QgaExecResult> QgaClient::Exec(const std::string& path, const std::vector<std::string>& args,
                                      int poll_ms) {
  auto started =
      Command({{"execute", "guest-exec"},
               {"arguments", {{"path", path}, {"arg", args}, {"capture-output", true}}}});
  if (!started.ok()) return started.status();
  int64_t pid = started->at("pid").get<int64_t>();
  for (;;) {
    auto st = Command({{"execute", "guest-exec-status"}, {"arguments", {{"pid", pid}}}});
    if (!st.ok()) return st.status();
    if (st->value("exited", false)) {
      QgaExecResult r;
      r.exit_code = st->value("exitcode", -1);
      if (st->contains("out-data")) r.out = Unbase64(st->at("out-data").get<std::string>());
      return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
}

}  // namespace gitdisc::bench
