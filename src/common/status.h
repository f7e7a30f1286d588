#pragma once

#include <string>
#include <utility>
#include <variant>

namespace esar {

// Where in an input file something is: the file, and either a JSON path ("/kpis/3/criteria")
// or a 1-based CSV line. Empty fields mean "unknown".
struct Location {
  std::string file;
  std::string json_path;
  int line = 0;

  // "file.json /kpis/3" or "data.csv:12" or "" when nothing is known.
  std::string ToString() const;
};

enum class StatusCode {
  kOk,
  kInvalidInput,      // the user's file or argument is wrong; the message says how
  kNotFound,          // a named thing (file, agency, KPI) does not exist
  kIoError,           // the operating system refused a read or write
  kUnauthenticated,   // who is asking is not known (no or a bad session, wrong password)
  kPermissionDenied,  // known, but not allowed to do this
  kConflict,          // not possible in the current state (submitted already, past deadline)
  kTooManyRequests,   // throttled: too many failed logins
  kUnavailable,       // busy for a moment (too many password checks at once): try again soon
  kInternal,          // a bug in esar: a message for the log, never for the user to fix
  kDataLoss,          // what esar stored no longer matches its hash: damaged or altered outside
};

// The outcome of an operation that can fail in an expected way. An ok Status carries nothing;
// an error carries a code, a message in Thai and in English, and where the problem is.
class Status {
 public:
  Status() = default;

  static Status Ok() { return Status(); }
  static Status InvalidInput(std::string th, std::string en, Location where = {}) {
    return Status(StatusCode::kInvalidInput, std::move(th), std::move(en), std::move(where));
  }
  static Status NotFound(std::string th, std::string en, Location where = {}) {
    return Status(StatusCode::kNotFound, std::move(th), std::move(en), std::move(where));
  }
  static Status IoError(std::string th, std::string en, Location where = {}) {
    return Status(StatusCode::kIoError, std::move(th), std::move(en), std::move(where));
  }
  static Status Unauthenticated(std::string th, std::string en) {
    return Status(StatusCode::kUnauthenticated, std::move(th), std::move(en), {});
  }
  static Status PermissionDenied(std::string th, std::string en) {
    return Status(StatusCode::kPermissionDenied, std::move(th), std::move(en), {});
  }
  static Status Conflict(std::string th, std::string en) {
    return Status(StatusCode::kConflict, std::move(th), std::move(en), {});
  }
  static Status TooManyRequests(std::string th, std::string en) {
    return Status(StatusCode::kTooManyRequests, std::move(th), std::move(en), {});
  }
  static Status Unavailable(std::string th, std::string en) {
    return Status(StatusCode::kUnavailable, std::move(th), std::move(en), {});
  }
  static Status DataLoss(std::string th, std::string en) {
    return Status(StatusCode::kDataLoss, std::move(th), std::move(en), {});
  }
  static Status Internal(std::string en) {
    return Status(StatusCode::kInternal, "ข้อผิดพลาดภายใน: " + en, en, {});
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message_th() const { return message_th_; }
  const std::string& message_en() const { return message_en_; }
  const Location& where() const { return where_; }
  // The message in the given language ("th" or "en"), prefixed by its location if known.
  std::string ToString(bool thai) const;

 private:
  Status(StatusCode code, std::string th, std::string en, Location where)
      : code_(code),
        message_th_(std::move(th)),
        message_en_(std::move(en)),
        where_(std::move(where)) {}

  StatusCode code_ = StatusCode::kOk;
  std::string message_th_;
  std::string message_en_;
  Location where_;
};

// A value or the Status explaining why there is none; shaped like std::expected so that a move
// to C++23 is a rename. Accessing value() of an error is a bug (asserted).
template <typename T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}       // NOLINT: implicit like std::expected
  Result(Status error) : state_(std::move(error)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error; an ok Status when there is a value.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(state_); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace esar
