#include "providers/vsphere_soap.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/unique_fd.h"

namespace gitdisc::vsphere {
namespace {

constexpr size_t kMaxBodyBytes = 256u << 20;
constexpr char kCookieName[] = "vmware_soap_session";

using CurlPtr = CHandle<CURL, curl_easy_cleanup>;
using SlistPtr = CHandle<curl_slist, curl_slist_free_all>;

Status GlobalInit() {
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) return Status::Internal(std::string("curl_global_init: ") + curl_easy_strerror(rc));
  return Status::Ok();
}

}  // namespace

struct SoapClient::Handle {
  CurlPtr curl;
  SlistPtr headers;
  std::string body;
  bool body_too_large = false;
  std::vector<std::string> set_cookies;
  int64_t content_length = -1;
  char errbuf[CURL_ERROR_SIZE] = {};
  int fd = -1;  // upload source or download target (not owned)
  const std::atomic<bool>* cancel = nullptr;
  curl_off_t io_bytes = 0;
  bool io_failed = false;
};

namespace {

size_t OnBody(char* data, size_t size, size_t n, void* opaque) {
  auto* h = static_cast<SoapClient::Handle*>(opaque);
  size_t len = size * n;
  if (h->fd >= 0) {  // download to a file
    size_t off = 0;
    while (off < len) {
      ssize_t w = ::write(h->fd, data + off, len - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        h->io_failed = true;
        return 0;
      }
      off += static_cast<size_t>(w);
    }
    return len;
  }
  if (h->body.size() + len > kMaxBodyBytes) {
    h->body_too_large = true;
    return 0;  // aborts the transfer
  }
  h->body.append(data, len);
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* opaque) {
  auto* h = static_cast<SoapClient::Handle*>(opaque);
  std::string line(data, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  size_t colon = line.find(':');
  if (colon == std::string::npos) return size * n;
  std::string name = line.substr(0, colon);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string value = line.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.erase(0, 1);
  if (name == "set-cookie") h->set_cookies.push_back(value);
  if (name == "content-length") h->content_length = std::strtoll(value.c_str(), nullptr, 10);
  return size * n;
}

size_t OnRead(char* buf, size_t size, size_t n, void* opaque) {
  auto* h = static_cast<SoapClient::Handle*>(opaque);
  for (;;) {
    ssize_t got = ::read(h->fd, buf, size * n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      h->io_failed = true;
      return CURL_READFUNC_ABORT;
    }
    h->io_bytes += got;
    return static_cast<size_t>(got);
  }
}

int OnProgress(void* opaque, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* h = static_cast<SoapClient::Handle*>(opaque);
  return h->cancel && h->cancel->load() ? 1 : 0;
}

Status CurlStatus(CURLcode rc, const std::string& what, const std::string& url,
                  const SoapClient::Handle& h, std::chrono::milliseconds timeout) {
  std::string detail = h.errbuf[0] ? h.errbuf : curl_easy_strerror(rc);
  std::string msg = what + ": " + url + ": " + detail;
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return Status::Timeout(what + ": " + url + ": no answer within " +
                             std::to_string(timeout.count() / 1000) + " s (" + detail + ")");
    case CURLE_PEER_FAILED_VERIFICATION:
      return Status::Permission(msg +
                                " (the server's TLS certificate is not trusted: give caFile=PATH, "
                                "or insecure=1 in a lab)");
    case CURLE_SSL_CACERT_BADFILE:
      return Status::Invalid(what + ": the caFile cannot be used: " + detail);
    case CURLE_ABORTED_BY_CALLBACK:
      return Status::Unavailable(what + ": cancelled");
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Status::Invalid(msg);
    default:
      return Status::Unavailable(msg);
  }
}

}  // namespace

Status FaultStatus(const std::string& what, const std::string& type, const std::string& text) {
  std::string msg = what + ": " + (text.empty() ? type : text) + " (" +
                    (type.empty() ? "SOAP fault" : type) + ")";
  if (type == "InvalidLogin" || type == "NotAuthenticated" || type == "NoPermission" ||
      type == "InvalidLocale") {
    return Status::Permission(msg);
  }
  if (type == "ManagedObjectNotFound" || type == "FileNotFound") return Status::NotFound(msg);
  if (type == "InvalidState" || type == "InvalidPowerState" || type == "TaskInProgress" ||
      type == "ConcurrentAccess" || type == "FileAlreadyExists" || type == "VmConfigIncompatibleForRecordReplay") {
    return Status::Conflict(msg);
  }
  if (type == "InvalidArgument" || type == "InvalidRequest" || type == "InvalidProperty" ||
      type == "InvalidType" || type == "MethodNotFound" || type == "NotSupported" ||
      type == "InvalidDeviceSpec" || type == "InvalidDatastorePath") {
    return Status::Invalid(msg);
  }
  if (type == "HostCommunication" || type == "HostNotConnected" || type == "RequestCanceled") {
    return Status::Unavailable(msg);
  }
  return Status::Internal(msg);
}

SoapClient::SoapClient(SoapOptions options) : options_(std::move(options)) {
  std::string host = options_.host.find(':') != std::string::npos ? "[" + options_.host + "]"
                                                                   : options_.host;
  base_url_ = "https://" + host + ":" + std::to_string(options_.port);
}

SoapClient::~SoapClient() = default;

Result<std::unique_ptr<SoapClient>> SoapClient::Create(SoapOptions options) {
  GITDISC_RETURN_IF_ERROR(GlobalInit());
  if (options.host.empty()) return Status::Invalid("vSphere: no host");
  if (options.port <= 0 || options.port > 65535) return Status::Invalid("vSphere: bad port");
  return std::unique_ptr<SoapClient>(new SoapClient(std::move(options)));
}

bool SoapClient::has_session() const {
  std::lock_guard<std::mutex> l(mu_);
  return !cookie_.empty();
}

void SoapClient::ClearSession() {
  std::lock_guard<std::mutex> l(mu_);
  cookie_.clear();
}

void SoapClient::TakeCookie(const std::string& set_cookie) {
  // vmware_soap_session="52a1…"; Path=/; HttpOnly; Secure
  std::string first = set_cookie.substr(0, set_cookie.find(';'));
  if (first.rfind(std::string(kCookieName) + "=", 0) != 0) return;
  std::lock_guard<std::mutex> l(mu_);
  cookie_ = first;
}

std::unique_ptr<SoapClient::Handle> SoapClient::Acquire() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!idle_.empty()) {
      auto h = std::move(idle_.back());
      idle_.pop_back();
      return h;
    }
  }
  auto h = std::make_unique<Handle>();
  h->curl.reset(curl_easy_init());
  return h;
}

void SoapClient::Release(std::unique_ptr<Handle> h) {
  h->headers.reset();
  h->body.clear();
  h->body.shrink_to_fit();
  h->set_cookies.clear();
  h->fd = -1;
  h->cancel = nullptr;
  std::lock_guard<std::mutex> l(mu_);
  if (idle_.size() < 8) idle_.push_back(std::move(h));
}

Status SoapClient::Prepare(Handle& h, const std::string& url, std::chrono::milliseconds timeout) {
  if (!h.curl) return Status::Internal("curl_easy_init failed");
  CURL* c = h.curl.get();
  curl_easy_reset(c);  // keeps the connection cache: calls reuse their TLS session
  h.body.clear();
  h.body_too_large = false;
  h.set_cookies.clear();
  h.content_length = -1;
  h.errbuf[0] = '\0';
  h.io_bytes = 0;
  h.io_failed = false;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h.errbuf);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  if (timeout.count() > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  // Uploads and downloads have no total limit, but must keep moving.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(std::max<int64_t>(1, options_.stall_timeout.count() / 1000)));
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  if (options_.insecure) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (!options_.ca_file.empty()) {
    curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &h);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
  std::string cookie;
  {
    std::lock_guard<std::mutex> l(mu_);
    cookie = cookie_;
  }
  if (!cookie.empty()) curl_easy_setopt(c, CURLOPT_COOKIE, cookie.c_str());  // libcurl copies it
  return Status::Ok();
}

Status SoapClient::Perform(Handle& h, const std::string& what, long* http_status) {
  CURLcode rc = curl_easy_perform(h.curl.get());
  char* url = nullptr;
  curl_easy_getinfo(h.curl.get(), CURLINFO_EFFECTIVE_URL, &url);
  std::string u = url ? url : base_url_;
  u = u.substr(0, u.find('?'));
  if (h.body_too_large) return Status::Invalid(what + ": answer larger than 256 MiB");
  if (h.io_failed) return Status::Io(what + ": reading or writing the local file failed");
  if (rc != CURLE_OK) {
    long t = 0;
    curl_easy_getinfo(h.curl.get(), CURLINFO_TOTAL_TIME_T, &t);
    return CurlStatus(rc, what, u, h, std::chrono::milliseconds(t / 1000));
  }
  curl_easy_getinfo(h.curl.get(), CURLINFO_RESPONSE_CODE, http_status);
  for (const std::string& c : h.set_cookies) TakeCookie(c);
  return Status::Ok();
}

Result<SoapResponse> SoapClient::Call(const std::string& what, XmlWriter& request,
                                      std::chrono::milliseconds timeout,
                                      const std::atomic<bool>* cancel) {
  GITDISC_ASSIGN_OR_RETURN(std::string body, request.Finish());
  auto h = Acquire();
  GITDISC_RETURN_IF_ERROR(Prepare(*h, base_url_ + "/sdk",
                                  timeout.count() > 0 ? timeout : options_.call_timeout));
  if (cancel) {
    h->cancel = cancel;
    curl_easy_setopt(h->curl.get(), CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h->curl.get(), CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(h->curl.get(), CURLOPT_XFERINFODATA, h.get());
  }
  curl_slist* list = curl_slist_append(nullptr, "Content-Type: text/xml; charset=utf-8");
  list = curl_slist_append(list, "SOAPAction: \"urn:vim25/6.5\"");
  h->headers.reset(list);
  curl_easy_setopt(h->curl.get(), CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h->curl.get(), CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(h->curl.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  long http = 0;
  Status st = Perform(*h, what, &http);
  std::string reply = std::move(h->body);
  Release(std::move(h));
  GITDISC_RETURN_IF_ERROR(st);
  if (http != 200 && http != 500) {
    return Status::Unavailable(what + ": " + base_url_ + "/sdk answered HTTP " + std::to_string(http));
  }
  GITDISC_ASSIGN_OR_RETURN(XmlDoc doc, ParseXml(reply, "SOAP response"));
  const xmlNode* env = xmlDocGetRootElement(doc.get());
  const xmlNode* soap_body = Child(env, "Body");
  const xmlNode* first = FirstChildElement(soap_body);
  if (!first) return Status::Invalid(what + ": SOAP response without a body");
  if (IsElement(first, "Fault")) {
    const xmlNode* detail = FirstChildElement(Child(first, "detail"));
    std::string type = XsiType(detail);
    if (type.empty() && detail) {
      type = reinterpret_cast<const char*>(detail->name);
      if (type.size() > 5 && type.compare(type.size() - 5, 5, "Fault") == 0) type.resize(type.size() - 5);
    }
    return FaultStatus(what, type, ChildText(first, "faultstring"));
  }
  if (http != 200) return Status::Unavailable(what + ": HTTP " + std::to_string(http));
  SoapResponse r;
  r.body = first;
  r.doc = std::move(doc);
  return r;
}

Status SoapClient::PutFile(const std::string& path_query, const std::string& local_path,
                           const std::string& what) {
  UniqueFd fd(::open(local_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Status::FromErrno(what + ": open " + local_path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(what + ": stat " + local_path, errno);
  auto h = Acquire();
  GITDISC_RETURN_IF_ERROR(Prepare(*h, base_url_ + path_query, std::chrono::milliseconds(0)));
  CURL* c = h->curl.get();
  h->fd = fd.get();
  curl_slist* list = curl_slist_append(nullptr, "Content-Type: application/octet-stream");
  list = curl_slist_append(list, "Expect:");
  h->headers.reset(list);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, OnRead);
  curl_easy_setopt(c, CURLOPT_READDATA, h.get());
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(st.st_size));
  long http = 0;
  Status s = Perform(*h, what, &http);
  curl_off_t sent = h->io_bytes;
  Release(std::move(h));
  GITDISC_RETURN_IF_ERROR(s);
  if (http != 200 && http != 201 && http != 204) {
    return Status::Unavailable(what + ": the datastore answered HTTP " + std::to_string(http));
  }
  if (sent != st.st_size) return Status::Io(what + ": " + local_path + " changed during upload");
  return Status::Ok();
}

Status SoapClient::PutData(const std::string& path_query, const std::string& data,
                           const std::string& what) {
  auto h = Acquire();
  GITDISC_RETURN_IF_ERROR(Prepare(*h, base_url_ + path_query, options_.call_timeout));
  CURL* c = h->curl.get();
  curl_slist* list = curl_slist_append(nullptr, "Content-Type: application/octet-stream");
  h->headers.reset(list);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, data.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(data.size()));
  long http = 0;
  Status s = Perform(*h, what, &http);
  Release(std::move(h));
  GITDISC_RETURN_IF_ERROR(s);
  if (http != 200 && http != 201 && http != 204) {
    return Status::Unavailable(what + ": the datastore answered HTTP " + std::to_string(http));
  }
  return Status::Ok();
}

Result<SoapClient::Head> SoapClient::HeadFile(const std::string& path_query,
                                              const std::string& what) {
  auto h = Acquire();
  GITDISC_RETURN_IF_ERROR(Prepare(*h, base_url_ + path_query, options_.call_timeout));
  curl_easy_setopt(h->curl.get(), CURLOPT_NOBODY, 1L);
  Head out;
  Status s = Perform(*h, what, &out.status);
  out.length = h->content_length;
  Release(std::move(h));
  GITDISC_RETURN_IF_ERROR(s);
  return out;
}

Status SoapClient::GetFile(const std::string& path_query, const std::string& local_path,
                           const std::string& what) {
  UniqueFd fd(::open(local_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) return Status::FromErrno(what + ": create " + local_path, errno);
  auto h = Acquire();
  GITDISC_RETURN_IF_ERROR(Prepare(*h, base_url_ + path_query, std::chrono::milliseconds(0)));
  h->fd = fd.get();
  long http = 0;
  Status s = Perform(*h, what, &http);
  Release(std::move(h));
  GITDISC_RETURN_IF_ERROR(s);
  if (http == 404) return Status::NotFound(what + ": no such datastore file");
  if (http != 200) return Status::Unavailable(what + ": the datastore answered HTTP " + std::to_string(http));
  return Status::Ok();
}

}  // namespace gitdisc::vsphere
