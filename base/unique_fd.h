// UniqueFd: sole owner of one POSIX file descriptor, closed when it goes out
// of scope. The one RAII descriptor type of the project: code that opens a
// descriptor holds it here instead of calling close() on every exit path.
//
// Not thread-safe (like std::unique_ptr); moving transfers ownership.
#ifndef GITDISC_BASE_UNIQUE_FD_H_
#define GITDISC_BASE_UNIQUE_FD_H_

#include <utility>

namespace gitdisc {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  // Gives up ownership without closing; the caller now owns the descriptor.
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }
  // Closes the held descriptor (if any) and takes `fd`. Errors of close() are
  // not reported: use Close() where they matter (a file just written).
  void Reset(int fd = -1);
  // Closes now and reports close()'s result (0, or -1 with errno set).
  int Close();

 private:
  int fd_ = -1;
};

}  // namespace gitdisc

#endif  // GITDISC_BASE_UNIQUE_FD_H_
