// HttpAttack: the abuse mix of issue 13 against an HTTP port on loopback, for
// the daemon's abuse test and the /healthz latency benchmark. Attackers use
// source addresses 127.0.0.<first_address>… (all loopback on Linux), so a
// prober on 127.0.0.1 is a different client:
//   - idle: connections opened and left silent (re-opened when closed);
//   - slowloris: request heads sent one byte per `slowloris_interval`;
//   - endless headers: one header line streamed without a newline;
//   - bodies without length: POST heads without Content-Length, then a body
//     streamed for as long as the server takes it;
//   - bad signatures: signed-looking webhooks with wrong signatures, as fast
//     as answers come back (keep-alive).
// Sockets are non-blocking and served by a few threads; the attack never
// waits on the server.
//
// Start/Stop/counts from one thread.
#ifndef GITDISC_TESTS_SUPPORT_HTTP_ATTACK_H_
#define GITDISC_TESTS_SUPPORT_HTTP_ATTACK_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace gitdisc::test_support {

struct AttackMix {
  int idle = 300;
  int slowloris = 40;
  std::chrono::milliseconds slowloris_interval{1000};
  int endless_headers = 4;
  int no_length_bodies = 4;
  int bad_signature_threads = 2;
  std::string webhook_path = "/hooks/generic";
  int first_address = 2;  // 127.0.0.<first_address> and up
};

struct AttackCounts {
  uint64_t connections = 0;       // opened
  uint64_t closed_by_server = 0;  // seen closed (EOF or reset)
  uint64_t bytes_sent = 0;
  uint64_t bad_signature_requests = 0;
  uint64_t bad_signature_401 = 0;
};

class HttpAttack {
 public:
  HttpAttack(int port, AttackMix mix);
  ~HttpAttack();
  HttpAttack(const HttpAttack&) = delete;
  HttpAttack& operator=(const HttpAttack&) = delete;

  void Start();
  void Stop();  // closes every attacking connection
  AttackCounts counts() const;

 private:
  void HoldLoop();
  void SignatureLoop(int index);

  const int port_;
  const AttackMix mix_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> connections_{0}, closed_{0}, bytes_{0}, sig_requests_{0}, sig_401_{0};
};

// One probe as a load balancer or kubelet would send it: a new connection
// from 127.0.0.1, GET /healthz, the whole answer read. `ok` only for a 200
// within `timeout`; `ms` is the time to the end of the answer.
struct ProbeResult {
  bool ok = false;
  double ms = 0;
};
ProbeResult ProbeHealth(int port, std::chrono::milliseconds timeout);

}  // namespace gitdisc::test_support

#endif  // GITDISC_TESTS_SUPPORT_HTTP_ATTACK_H_
