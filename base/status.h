// Status and Result<T>: how every gitdisc function reports failure.
//
// No exceptions cross a module boundary. A function that can fail returns a
// [[nodiscard]] Status (success carries nothing) or a Result<T> (success
// carries a value). A Status has a code, which callers branch on, and a message
// meant for people, which already carries its context ("open /x: No such file").
//
// Codes separate transient from permanent failures: kUnavailable and kTimeout
// are worth retrying with backoff; kInvalid, kNotFound, kConflict, kPermission
// and kCorrupt are not, until the input changes.
//
// Status and Result are values: copyable, movable, not thread-safe to mutate
// concurrently (like any value).
#ifndef GITDISC_BASE_STATUS_H_
#define GITDISC_BASE_STATUS_H_

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace gitdisc {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalid,      // bad input: a spec, an argument, a message
    kNotFound,     // a thing that should exist does not
    kConflict,     // the world is not in a state that allows the operation
    kPermission,   // refused by authentication or file permissions
    kCorrupt,      // data failed a digest or structure check
    kUnavailable,  // a peer, host or service cannot be reached now (transient)
    kTimeout,      // a deadline passed (transient)
    kIo,           // an operating-system level failure
    kInternal,     // a bug or an unexpected library failure
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status Invalid(std::string msg) { return Status(Code::kInvalid, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Conflict(std::string msg) { return Status(Code::kConflict, std::move(msg)); }
  static Status Permission(std::string msg) { return Status(Code::kPermission, std::move(msg)); }
  static Status Corrupt(std::string msg) { return Status(Code::kCorrupt, std::move(msg)); }
  static Status Unavailable(std::string msg) {
    return Status(Code::kUnavailable, std::move(msg));
  }
  static Status Timeout(std::string msg) { return Status(Code::kTimeout, std::move(msg)); }
  static Status Io(std::string msg) { return Status(Code::kIo, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }
  // An OS error: "context: strerror(err)" with code kNotFound, kPermission or kIo.
  static Status FromErrno(std::string_view context, int err);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // Transient failures are worth retrying with backoff.
  bool transient() const { return code_ == Code::kUnavailable || code_ == Code::kTimeout; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }

  // "ok" or "<code name>: <message>".
  std::string ToString() const;
  static const char* CodeName(Code code);

  // Returns a copy whose message is "context: message" (same code).
  Status Annotate(std::string_view context) const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// Result<T>: a T or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit on purpose
    assert(!std::get<Status>(v_).ok() && "Result built from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // The failure; Status::Ok() when this holds a value.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace gitdisc

// Early return on failure, LevelDB/Abseil style.
#define GITDISC_RETURN_IF_ERROR(expr)               \
  do {                                              \
    ::gitdisc::Status gitdisc_status_ = (expr);     \
    if (!gitdisc_status_.ok()) return gitdisc_status_; \
  } while (0)

#define GITDISC_CONCAT_INNER_(a, b) a##b
#define GITDISC_CONCAT_(a, b) GITDISC_CONCAT_INNER_(a, b)
#define GITDISC_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()
// GITDISC_ASSIGN_OR_RETURN(auto x, MakeX()); returns the Status on failure.
#define GITDISC_ASSIGN_OR_RETURN(lhs, expr) \
  GITDISC_ASSIGN_OR_RETURN_IMPL_(GITDISC_CONCAT_(gitdisc_result_, __LINE__), lhs, expr)

#endif  // GITDISC_BASE_STATUS_H_
