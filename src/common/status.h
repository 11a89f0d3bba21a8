#pragma once

// Error values for the control plane and the data path: no exceptions cross a request or a
// hostcall. A Status is either ok or carries a message that names what was wrong.

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace wasmgate {

class Status {
public:
  Status() = default;
  static Status error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return !message_.has_value(); }
  explicit operator bool() const { return ok(); }
  const std::string& message() const {
    static const std::string empty;
    return message_ ? *message_ : empty;
  }

private:
  explicit Status(std::string message) : message_(std::move(message)) {}
  std::optional<std::string> message_;
};

inline Status okStatus() { return Status(); }

// Result<T>: a value or an error Status (std::expected is C++23).
template <class T> class Result {
public:
  Result(T value) : v_(std::move(value)) {}
  Result(Status error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Status& status() const {
    static const Status ok_status;
    return ok() ? ok_status : std::get<1>(v_);
  }
  const std::string& error() const { return status().message(); }

private:
  std::variant<T, Status> v_;
};

#define WG_RETURN_IF_ERROR(expr)                                                                   \
  do {                                                                                             \
    ::wasmgate::Status wg_status_ = (expr);                                                        \
    if (!wg_status_.ok())                                                                          \
      return wg_status_;                                                                           \
  } while (0)

} // namespace wasmgate
