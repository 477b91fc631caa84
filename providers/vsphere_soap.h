// SoapClient: HTTPS to one vCenter/ESXi endpoint with libcurl — vim25 SOAP
// calls (POST /sdk) and datastore file transfers (/folder/…), both carrying
// the session cookie (vmware_soap_session) that Login sets.
//
// Every request has deadlines (connect, and either a whole-call timeout or,
// for uploads, a stall limit), so a vCenter that stops answering yields
// kTimeout, never a hang; a refused or cut connection is kUnavailable. TLS is
// verified against the system CAs or `ca_file`; `insecure` turns verification
// off (labs). A SOAP fault becomes a Status by its fault type
// (InvalidLogin/NotAuthenticated/NoPermission → kPermission,
// ManagedObjectNotFound → kNotFound, InvalidState/InvalidPowerState/
// TaskInProgress/ConcurrentAccess → kConflict, InvalidArgument/InvalidRequest
// → kInvalid, others kInternal); the message names the call, the fault type
// and the server's text. Request bodies (which carry the password at Login)
// never appear in messages.
//
// Internal to the vSphere provider; includes libxml2 through vsphere_xml.h.
// Thread-safe: calls from several threads run in parallel on pooled handles.
#ifndef GITDISC_PROVIDERS_VSPHERE_SOAP_H_
#define GITDISC_PROVIDERS_VSPHERE_SOAP_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "providers/vsphere_xml.h"

namespace gitdisc::vsphere {

// A parsed response: the document and its <METHODResponse> element.
struct SoapResponse {
  XmlDoc doc;
  const xmlNode* body = nullptr;  // the element inside soapenv:Body
  // <returnval> of the response, or nullptr.
  const xmlNode* returnval() const { return Child(body, "returnval"); }
};

class SoapClient {
 public:
  static Result<std::unique_ptr<SoapClient>> Create(SoapOptions options);
  ~SoapClient();
  SoapClient(const SoapClient&) = delete;
  SoapClient& operator=(const SoapClient&) = delete;

  // POSTs the request. `what` names the call in messages ("ReconfigVM_Task web-1").
  // `timeout` overrides call_timeout (WaitForUpdatesEx waits longer); a call
  // whose `cancel` turns true ends within about a second (kUnavailable).
  Result<SoapResponse> Call(const std::string& what, XmlWriter& request,
                            std::chrono::milliseconds timeout = std::chrono::milliseconds(0),
                            const std::atomic<bool>* cancel = nullptr);

  // PUTs a local file to path_query ("/folder/gitdisc/x.iso?dcPath=…&dsName=…").
  Status PutFile(const std::string& path_query, const std::string& local_path,
                 const std::string& what);
  // PUTs a small body.
  Status PutData(const std::string& path_query, const std::string& data, const std::string& what);
  // HEAD: the HTTP status and Content-Length (-1 when absent).
  struct Head {
    long status = 0;
    int64_t length = -1;
  };
  Result<Head> HeadFile(const std::string& path_query, const std::string& what);
  // GETs a file of at most max_bytes into local_path (tests; the fake guest's drive).
  Status GetFile(const std::string& path_query, const std::string& local_path,
                 const std::string& what);

  // "https://HOST:PORT" (never with credentials).
  const std::string& base_url() const { return base_url_; }
  bool has_session() const;
  void ClearSession();

  struct Handle;  // a pooled curl easy handle; defined in the .cc

 private:
  explicit SoapClient(SoapOptions options);
  std::unique_ptr<Handle> Acquire();
  void Release(std::unique_ptr<Handle> h);
  // Sets the options every request shares (TLS, timeouts, cookie, header capture).
  Status Prepare(Handle& h, const std::string& url, std::chrono::milliseconds timeout);
  Status Perform(Handle& h, const std::string& what, long* http_status);
  void TakeCookie(const std::string& set_cookie);

  SoapOptions options_;
  std::string base_url_;
  mutable std::mutex mu_;  // guards cookie_ and idle_
  std::string cookie_;     // "vmware_soap_session=…"
  std::vector<std::unique_ptr<Handle>> idle_;
};

// Fault type → Status code, as above (exposed for tests).
Status FaultStatus(const std::string& what, const std::string& fault_type,
                   const std::string& fault_string);

}  // namespace gitdisc::vsphere

#endif  // GITDISC_PROVIDERS_VSPHERE_SOAP_H_
