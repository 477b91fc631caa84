#include "tests/support/http_attack.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "base/unique_fd.h"
#include "tests/support/raw_http_client.h"

namespace gitdisc::test_support {
namespace {

using Clock = std::chrono::steady_clock;

enum class Kind { kIdle, kSlowloris, kEndlessHeader, kNoLengthBody };

struct Slot {
  Kind kind;
  std::string from;
  UniqueFd fd;
  size_t sent = 0;  // of the head, for slowloris
  Clock::time_point next{};
};

const std::string& SlowHead() {
  static const std::string head = "GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " +
                                  std::string(4000, 'p') + "\r\n\r\n";
  return head;
}

UniqueFd ConnectFrom(const std::string& from, int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fd;
  timeval tv{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, from.c_str(), &a.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    return UniqueFd();
  }
  return fd;
}

// Drains what the server said; false when it closed.
bool StillOpen(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) continue;
    if (n == 0) return false;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  }
}

ssize_t SendNoWait(int fd, const std::string& bytes) {
  return ::send(fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

}  // namespace

HttpAttack::HttpAttack(int port, AttackMix mix) : port_(port), mix_(std::move(mix)) {}

HttpAttack::~HttpAttack() { Stop(); }

void HttpAttack::Start() {
  threads_.emplace_back([this] { HoldLoop(); });
  for (int i = 0; i < mix_.bad_signature_threads; ++i) {
    threads_.emplace_back([this, i] { SignatureLoop(i); });
  }
}

void HttpAttack::Stop() {
  stop_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
}

AttackCounts HttpAttack::counts() const {
  return AttackCounts{connections_.load(), closed_.load(), bytes_.load(), sig_requests_.load(),
                      sig_401_.load()};
}

void HttpAttack::HoldLoop() {
  // Idle connections spread 30 to an address; each other kind on addresses
  // of its own.
  std::vector<Slot> slots;
  int a = mix_.first_address;
  auto address = [](int n) { return "127.0.0." + std::to_string(n); };
  for (int i = 0; i < mix_.idle; ++i) slots.push_back({Kind::kIdle, address(a + i / 30), {}});
  a += (mix_.idle + 29) / 30;
  for (int i = 0; i < mix_.slowloris; ++i) {
    slots.push_back({Kind::kSlowloris, address(a + i / 20), {}});
  }
  a += (mix_.slowloris + 19) / 20;
  for (int i = 0; i < mix_.endless_headers; ++i) slots.push_back({Kind::kEndlessHeader, address(a), {}});
  ++a;
  for (int i = 0; i < mix_.no_length_bodies; ++i) slots.push_back({Kind::kNoLengthBody, address(a), {}});
  const std::string chunk(16 * 1024, 'x');
  while (!stop_) {
    auto now = Clock::now();
    for (Slot& s : slots) {
      if (s.fd && !StillOpen(s.fd.get())) {
        ++closed_;
        s.fd.Reset();
      }
      if (!s.fd) {
        s.fd = ConnectFrom(s.from, port_);
        if (!s.fd) continue;
        ++connections_;
        s.sent = 0;
        s.next = now;
        if (s.kind == Kind::kEndlessHeader) SendNoWait(s.fd.get(), "GET / HTTP/1.1\r\nX-Endless: ");
        if (s.kind == Kind::kNoLengthBody) {
          SendNoWait(s.fd.get(), "POST " + mix_.webhook_path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        }
      }
      ssize_t n = 0;
      switch (s.kind) {
        case Kind::kIdle:
          break;
        case Kind::kSlowloris:
          if (now >= s.next && s.sent < SlowHead().size()) {
            n = SendNoWait(s.fd.get(), SlowHead().substr(s.sent, 1));
            if (n > 0) s.sent += static_cast<size_t>(n);
            s.next = now + mix_.slowloris_interval;
          }
          break;
        case Kind::kEndlessHeader:
        case Kind::kNoLengthBody:
          n = SendNoWait(s.fd.get(), chunk);
          break;
      }
      if (n > 0) bytes_ += static_cast<uint64_t>(n);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void HttpAttack::SignatureLoop(int index) {
  const std::string from = "127.0.0." + std::to_string(mix_.first_address + 100 + index);
  const std::string body = "{\"ref\":\"refs/heads/main\",\"pad\":\"" + std::string(1000, 'b') + "\"}";
  const std::string request = "POST " + mix_.webhook_path +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Signature: sha256=" +
                              std::string(64, '0') + "\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
  while (!stop_) {
    auto c = RawHttpClient::Connect(from, "127.0.0.1", port_);
    if (!c.ok()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    ++connections_;
    while (!stop_ && c->Send(request)) {
      ++sig_requests_;
      auto r = c->ReadResponse(std::chrono::milliseconds(2000));
      if (!r) break;
      if (StatusCodeOf(*r) == 401) ++sig_401_;
    }
  }
}

ProbeResult ProbeHealth(int port, std::chrono::milliseconds timeout) {
  ProbeResult r;
  auto start = Clock::now();
  auto c = RawHttpClient::Connect("127.0.0.1", "127.0.0.1", port);
  if (c.ok() && c->Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")) {
    auto resp = c->ReadResponse(timeout);
    r.ok = resp && StatusCodeOf(*resp) == 200;
  }
  r.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  if (r.ms > static_cast<double>(timeout.count())) r.ok = false;
  return r;
}

}  // namespace gitdisc::test_support
