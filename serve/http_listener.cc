#include "serve/http_listener.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace gitdisc::serve {
namespace {

using Clock = std::chrono::steady_clock;
using ConnPtr = std::unique_ptr<HttpConnection>;

// How long a refused connection is drained (its unread bytes discarded) after
// the answer, so the answer is not lost to a reset; then it is closed.
constexpr std::chrono::milliseconds kLinger{2000};
constexpr size_t kReadChunk = 16 * 1024;

// A bounded FIFO of whole requests for one lane's workers.
class ConnQueue {
 public:
  explicit ConnQueue(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

  // Moves `c` in and returns true, or leaves it and returns false when full
  // or shut down.
  bool TryPush(ConnPtr& c) {
    std::lock_guard<std::mutex> l(mu_);
    if (shut_ || items_.size() >= capacity_) return false;
    items_.push_back(std::move(c));
    cv_.notify_one();
    return true;
  }
  // The next request, or null once shut down.
  ConnPtr Pop() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return shut_ || !items_.empty(); });
    if (shut_) return nullptr;
    ConnPtr c = std::move(items_.front());
    items_.pop_front();
    return c;
  }
  // Wakes every worker; queued requests are dropped (closed unanswered).
  void ShutDown() {
    std::deque<ConnPtr> dropped;
    {
      std::lock_guard<std::mutex> l(mu_);
      shut_ = true;
      dropped.swap(items_);
      cv_.notify_all();
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ConnPtr> items_;
  size_t capacity_;
  bool shut_ = false;
};

const char* StatusText(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    default: return "Service Unavailable";
  }
}

int StatusOf(Refusal r) {
  switch (r) {
    case Refusal::kHeadTimeout:
    case Refusal::kBodyTimeout: return 408;
    case Refusal::kHeadTooLarge: return 431;
    case Refusal::kBadRequest: return 400;
    case Refusal::kLengthRequired: return 411;
    case Refusal::kBodyTooLarge: return 413;
    default: return 503;
  }
}

const char* Explain(Refusal r) {
  switch (r) {
    case Refusal::kHeadTimeout: return "the request head did not arrive in time";
    case Refusal::kBodyTimeout: return "the request body did not arrive in time";
    case Refusal::kHeadTooLarge: return "request head too large";
    case Refusal::kBadRequest: return "malformed request";
    case Refusal::kLengthRequired: return "a Content-Length is required (no chunked bodies)";
    case Refusal::kBodyTooLarge: return "payload too large";
    case Refusal::kPerClient: return "too many connections from this address";
    default: return "busy, try again";
  }
}

// One send of a short answer, without waiting: a client that does not read
// does not get it, and is closed anyway.
void SendRefusal(int fd, Refusal why) {
  int status = StatusOf(why);
  std::string text = std::string(Explain(why)) + "\n";
  std::string msg = "HTTP/1.1 " + std::to_string(status) + " " + StatusText(status) +
                    "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
                    std::to_string(text.size()) + "\r\nConnection: close\r\n" +
                    (status == 503 ? "Retry-After: 1\r\n" : "") + "\r\n" + text;
  (void)::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

std::string NumericHost(const sockaddr_storage& a, int* port) {
  char host[INET6_ADDRSTRLEN] = "";
  if (a.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    *port = ntohs(in->sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    *port = ntohs(in6->sin6_port);
  }
  return host;
}

Result<UniqueFd> BindListener(const std::string& host, int port, int* bound_port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string where = host + ":" + std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0) {
    return Status::Unavailable("cannot listen on " + where + ": " + ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(res, &::freeaddrinfo);
  int err = 0;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
      err = errno;
      continue;
    }
    // SO_REUSEADDR only: a restart may rebind while old connections linger
    // in TIME_WAIT; SO_REUSEPORT would let a second daemon share the port.
    int yes = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd.get(), 512) != 0) {
      err = errno;
      continue;
    }
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
    NumericHost(a, bound_port);
    return fd;
  }
  return Status::Unavailable("cannot listen on " + where + " (" + std::strerror(err) +
                             "; address in use or not available)");
}

}  // namespace

const char* RefusalName(Refusal r) {
  switch (r) {
    case Refusal::kPerClient: return "per_client";
    case Refusal::kEvicted: return "evicted";
    case Refusal::kHeadTimeout: return "head_timeout";
    case Refusal::kBodyTimeout: return "body_timeout";
    case Refusal::kHeadTooLarge: return "head_too_large";
    case Refusal::kBadRequest: return "bad_request";
    case Refusal::kLengthRequired: return "length_required";
    case Refusal::kBodyTooLarge: return "body_too_large";
    case Refusal::kShed: return "shed";
  }
  return "unknown";
}

std::string ClientKey(const std::string& address) {
  in6_addr a6{};
  if (address.find(':') == std::string::npos || ::inet_pton(AF_INET6, address.c_str(), &a6) != 1) {
    return address;
  }
  if (IN6_IS_ADDR_V4MAPPED(&a6)) {
    char v4[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &a6.s6_addr[12], v4, sizeof v4);
    return v4;
  }
  std::memset(&a6.s6_addr[8], 0, 8);
  char text[INET6_ADDRSTRLEN];
  ::inet_ntop(AF_INET6, &a6, text, sizeof text);
  return std::string(text) + "/64";
}

struct HttpListener::Impl {
  Impl(HttpLimits l, Handlers h)
      : limits(l),
        handlers(std::move(h)),
        health_queue(static_cast<size_t>(l.health_queue)),
        work_queue(static_cast<size_t>(l.work_queue)) {}

  // A connection in the loop: waiting for (the rest of) a request, or
  // draining after a refusal.
  struct Waiting {
    ConnPtr conn;
    bool draining = false;
  };

  void Loop();
  void AcceptAll();
  void Admit(UniqueFd fd, const sockaddr_storage& peer);
  void OnReadable(int fd);
  void Advance(int fd);
  bool StartBody(Waiting& w, Clock::time_point now);
  void Dispatch(int fd);
  void Refuse(int fd, Refusal why);
  void Close(int fd);
  void Forget(const HttpConnection& c);
  bool EvictOne();
  void ExpireDeadlines();
  void TakeReturned();
  int NextTimeoutMs() const;
  void Worker(ConnQueue* q);
  void Return(ConnPtr c, bool keep);
  void Watch(int fd, uint32_t events);

  const HttpLimits limits;
  const Handlers handlers;
  UniqueFd listen_fd, epoll_fd, wake_fd;
  std::thread loop;
  std::vector<std::thread> workers;
  ConnQueue health_queue, work_queue;
  std::atomic<bool> stop{false};
  std::atomic<int> open{0};

  // Loop thread only.
  std::map<int, Waiting> waiting;
  std::map<std::string, int> per_client;
  size_t body_used = 0;
  Clock::time_point accept_paused_until{};

  std::mutex returned_mu;
  std::vector<std::pair<ConnPtr, bool>> returned;
};

void HttpListener::Impl::Watch(int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_fd.get(), EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT) {
    ::epoll_ctl(epoll_fd.get(), EPOLL_CTL_ADD, fd, &ev);
  }
}

void HttpListener::Impl::Loop() {
  epoll_event events[64];
  while (!stop.load()) {
    int n = ::epoll_wait(epoll_fd.get(), events, 64, NextTimeoutMs());
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == listen_fd.get()) {
        AcceptAll();
      } else if (fd == wake_fd.get()) {
        uint64_t v;
        (void)!::read(wake_fd.get(), &v, sizeof v);
        TakeReturned();
      } else {
        OnReadable(fd);
      }
    }
    if (accept_paused_until != Clock::time_point{} && Clock::now() >= accept_paused_until) {
      accept_paused_until = {};
      Watch(listen_fd.get(), EPOLLIN);
    }
    ExpireDeadlines();
  }
  std::vector<int> fds;
  for (const auto& [fd, w] : waiting) fds.push_back(fd);
  for (int fd : fds) Close(fd);
}

int HttpListener::Impl::NextTimeoutMs() const {
  auto now = Clock::now();
  auto next = now + std::chrono::milliseconds(1000);
  for (const auto& [fd, w] : waiting) next = std::min(next, w.conn->deadline_);
  if (accept_paused_until != Clock::time_point{}) next = std::min(next, accept_paused_until);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
  return static_cast<int>(std::clamp<long long>(ms + 1, 0, 1000));
}

void HttpListener::Impl::AcceptAll() {
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = ::accept4(listen_fd.get(), reinterpret_cast<sockaddr*>(&peer), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      Admit(UniqueFd(fd), peer);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      // Out of descriptors: make room, and stop polling the listener for a
      // moment so the loop does not spin on a backlog it cannot take.
      EvictOne();
      Watch(listen_fd.get(), 0);
      accept_paused_until = Clock::now() + std::chrono::milliseconds(100);
    }
    return;
  }
}

void HttpListener::Impl::Admit(UniqueFd fd, const sockaddr_storage& peer) {
  int port = 0;
  std::string remote = NumericHost(peer, &port);
  std::string key = ClientKey(remote);
  auto it = per_client.find(key);
  if (it != per_client.end() && it->second >= limits.max_per_client) {
    if (handlers.refused) handlers.refused(Refusal::kPerClient, remote);
    SendRefusal(fd.get(), Refusal::kPerClient);
    return;  // closed here: a client over its share gets no linger either
  }
  if (open.load() >= limits.max_connections && !EvictOne()) {
    if (handlers.refused) handlers.refused(Refusal::kShed, remote);
    SendRefusal(fd.get(), Refusal::kShed);
    return;
  }
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &len);
  int local_port = 0;
  std::string local_addr = NumericHost(local, &local_port);
  int raw = fd.get();
  auto conn = std::make_unique<HttpConnection>(std::move(fd), remote, port, local_addr,
                                               local_port, key);
  conn->started_ = Clock::now();
  conn->deadline_ = conn->started_ + limits.head_timeout;
  ++per_client[key];
  ++open;
  waiting[raw] = Waiting{std::move(conn), false};
  Watch(raw, EPOLLIN | EPOLLRDHUP);
}

// The connection that waited longest for its request, of the client holding
// the most connections; never one being served (those finish quickly).
bool HttpListener::Impl::EvictOne() {
  int victim = -1;
  int victim_count = 0;
  Clock::time_point victim_start{};
  for (const auto& [fd, w] : waiting) {
    int count = per_client[w.conn->client_key()];
    if (w.draining) count += 1 << 20;  // refused already: the first to go
    if (victim < 0 || count > victim_count ||
        (count == victim_count && w.conn->started_ < victim_start)) {
      victim = fd;
      victim_count = count;
      victim_start = w.conn->started_;
    }
  }
  if (victim < 0) return false;
  if (handlers.refused && !waiting[victim].draining) {
    handlers.refused(Refusal::kEvicted, waiting[victim].conn->remote_addr());
  }
  Close(victim);
  return true;
}

void HttpListener::Impl::OnReadable(int fd) {
  auto it = waiting.find(fd);
  if (it == waiting.end()) return;
  HttpConnection& c = *it->second.conn;
  if (it->second.draining) {
    char sink[4096];
    ssize_t n = ::recv(fd, sink, sizeof sink, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) Close(fd);
    return;
  }
  size_t want = kReadChunk;
  if (c.in_body_) want = std::min(want, c.request_len_ - c.buf_.size());
  size_t have = c.buf_.size();
  c.buf_.resize(have + want);
  ssize_t n = ::recv(fd, c.buf_.data() + have, want, 0);
  c.buf_.resize(have + static_cast<size_t>(std::max<ssize_t>(n, 0)));
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    Close(fd);  // the client went away
    return;
  }
  if (n > 0) Advance(fd);
}

bool HttpListener::Impl::StartBody(Waiting& w, Clock::time_point now) {
  HttpConnection& c = *w.conn;
  uint64_t length = c.head_.content_length.value_or(0);
  if (c.head_.transfer_encoding ||
      (MethodNeedsLength(c.head_.method) && !c.head_.content_length)) {
    Refuse(c.fd(), Refusal::kLengthRequired);
    return false;
  }
  if (length > limits.max_body) {
    Refuse(c.fd(), Refusal::kBodyTooLarge);
    return false;
  }
  if (body_used + length > limits.body_budget) {
    Refuse(c.fd(), Refusal::kShed);
    return false;
  }
  body_used += length;
  c.body_reserved_ = length;
  c.request_len_ = c.head_len_ + length;
  c.in_body_ = true;
  c.deadline_ = now + limits.body_timeout;
  if (c.head_.expect_continue && c.buf_.size() < c.request_len_ && !c.sent_continue_) {
    static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
    (void)::send(c.fd(), kContinue, sizeof kContinue - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    c.sent_continue_ = true;
  }
  return true;
}

void HttpListener::Impl::Advance(int fd) {
  Waiting& w = waiting.at(fd);
  HttpConnection& c = *w.conn;
  if (!c.in_body_) {
    HeadScan scan = ScanHead(c.buf_, limits.head);
    switch (scan.state) {
      case HeadScan::State::kIncomplete:
        return;
      case HeadScan::State::kTooLarge:
      case HeadScan::State::kTooManyLines:
        Refuse(fd, Refusal::kHeadTooLarge);
        return;
      case HeadScan::State::kComplete:
        break;
    }
    auto head = ParseHead(std::string_view(c.buf_).substr(0, scan.length));
    if (!head) {
      Refuse(fd, Refusal::kBadRequest);
      return;
    }
    c.head_ = std::move(*head);
    c.head_len_ = scan.length;
    if (!StartBody(w, Clock::now())) return;
  }
  if (c.buf_.size() >= c.request_len_) Dispatch(fd);
}

void HttpListener::Impl::Dispatch(int fd) {
  ::epoll_ctl(epoll_fd.get(), EPOLL_CTL_DEL, fd, nullptr);
  auto node = waiting.extract(fd);
  ConnPtr c = std::move(node.mapped().conn);
  c->read_pos_ = 0;
  Lane lane = handlers.classify ? handlers.classify(c->head_) : Lane::kWork;
  ConnQueue& q = lane == Lane::kHealth ? health_queue : work_queue;
  if (q.TryPush(c)) return;
  // Full: back into the loop only to be answered 503 and drained.
  waiting[fd] = Waiting{std::move(c), false};
  Watch(fd, EPOLLIN | EPOLLRDHUP);
  Refuse(fd, Refusal::kShed);
}

void HttpListener::Impl::Refuse(int fd, Refusal why) {
  Waiting& w = waiting.at(fd);
  if (handlers.refused) handlers.refused(why, w.conn->remote_addr());
  SendRefusal(fd, why);
  ::shutdown(fd, SHUT_WR);
  // Its buffers go now; what else arrives is read and dropped until the
  // client closes or the linger ends.
  std::string().swap(w.conn->buf_);
  body_used -= w.conn->body_reserved_;
  w.conn->body_reserved_ = 0;
  w.draining = true;
  w.conn->deadline_ = Clock::now() + kLinger;
}

void HttpListener::Impl::Forget(const HttpConnection& c) {
  body_used -= c.body_reserved_;
  auto it = per_client.find(c.client_key());
  if (it != per_client.end() && --it->second <= 0) per_client.erase(it);
  --open;
}

void HttpListener::Impl::Close(int fd) {
  auto it = waiting.find(fd);
  if (it == waiting.end()) return;
  ::epoll_ctl(epoll_fd.get(), EPOLL_CTL_DEL, fd, nullptr);
  Forget(*it->second.conn);
  waiting.erase(it);  // closes the descriptor
}

void HttpListener::Impl::ExpireDeadlines() {
  auto now = Clock::now();
  std::vector<int> expired;
  for (const auto& [fd, w] : waiting) {
    if (now >= w.conn->deadline_) expired.push_back(fd);
  }
  for (int fd : expired) {
    Waiting& w = waiting.at(fd);
    bool idle_keep_alive = !w.conn->in_body_ && w.conn->buf_.empty() && w.conn->served_ > 0;
    if (w.draining || idle_keep_alive) {
      Close(fd);
    } else {
      Refuse(fd, w.conn->in_body_ ? Refusal::kBodyTimeout : Refusal::kHeadTimeout);
    }
  }
}

void HttpListener::Impl::Worker(ConnQueue* q) {
  while (ConnPtr c = q->Pop()) {
    c->deadline_ = Clock::now() + limits.write_timeout;
    bool close = stop.load() || c->head_.connection_close ||
                 c->served_ + 1 >= limits.max_requests_per_connection;
    bool keep = handlers.serve(*c, close) && !close;
    ++c->served_;
    Return(std::move(c), keep);
  }
}

void HttpListener::Impl::Return(ConnPtr c, bool keep) {
  {
    std::lock_guard<std::mutex> l(returned_mu);
    returned.emplace_back(std::move(c), keep);
  }
  uint64_t one = 1;
  (void)!::write(wake_fd.get(), &one, sizeof one);
}

void HttpListener::Impl::TakeReturned() {
  std::vector<std::pair<ConnPtr, bool>> back;
  {
    std::lock_guard<std::mutex> l(returned_mu);
    back.swap(returned);
  }
  auto now = Clock::now();
  for (auto& [c, keep] : back) {
    if (!keep || stop.load()) {
      Forget(*c);
      continue;
    }
    // The next request starts after this one's bytes.
    body_used -= c->body_reserved_;
    c->body_reserved_ = 0;
    c->buf_.erase(0, c->request_len_);
    c->request_len_ = c->head_len_ = c->read_pos_ = 0;
    c->in_body_ = c->sent_continue_ = false;
    c->head_ = RequestHead{};
    c->started_ = now;
    c->deadline_ = now + limits.head_timeout;
    int fd = c->fd();
    waiting[fd] = Waiting{std::move(c), false};
    Watch(fd, EPOLLIN | EPOLLRDHUP);
    if (!waiting[fd].conn->buf_.empty()) Advance(fd);  // pipelined bytes
  }
}

HttpListener::HttpListener(HttpLimits limits, Handlers handlers)
    : impl_(std::make_unique<Impl>(limits, std::move(handlers))) {}

HttpListener::~HttpListener() { Stop(); }

Status HttpListener::Start(const std::string& host, int port) {
  if (impl_->loop.joinable()) return Status::Conflict("HTTP listener already started");
  GITDISC_ASSIGN_OR_RETURN(impl_->listen_fd, BindListener(host, port, &port_));
  impl_->epoll_fd.Reset(::epoll_create1(EPOLL_CLOEXEC));
  impl_->wake_fd.Reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!impl_->epoll_fd || !impl_->wake_fd) return Status::FromErrno("epoll/eventfd", errno);
  impl_->Watch(impl_->listen_fd.get(), EPOLLIN);
  impl_->Watch(impl_->wake_fd.get(), EPOLLIN);
  for (int i = 0; i < std::max(1, impl_->limits.health_threads); ++i) {
    impl_->workers.emplace_back([this] { impl_->Worker(&impl_->health_queue); });
  }
  for (int i = 0; i < std::max(1, impl_->limits.work_threads); ++i) {
    impl_->workers.emplace_back([this] { impl_->Worker(&impl_->work_queue); });
  }
  impl_->loop = std::thread([this] { impl_->Loop(); });
  return Status::Ok();
}

void HttpListener::Stop() {
  if (!impl_->loop.joinable()) return;
  impl_->stop = true;
  uint64_t one = 1;
  (void)!::write(impl_->wake_fd.get(), &one, sizeof one);
  impl_->loop.join();
  impl_->listen_fd.Reset();
  impl_->health_queue.ShutDown();
  impl_->work_queue.ShutDown();
  for (auto& t : impl_->workers) t.join();
  impl_->workers.clear();
  std::lock_guard<std::mutex> l(impl_->returned_mu);
  impl_->returned.clear();
}

int HttpListener::connections() const { return impl_->open.load(); }

}  // namespace gitdisc::serve
