#pragma once

// An access log instance (one `access_log` entry): a formatter plus a destination. Lines are
// appended to a per-thread buffer (no lock on the request path) and written out with one
// write() per flush: when the buffer is large, on each worker's periodic flush, and at exit.

#include <memory>
#include <string>
#include <variant>

#include "accesslog/formatter.h"
#include "common/status.h"
#include "config/bootstrap.h"
#include "http/stream_info.h"

namespace wasmgate::accesslog {

class AccessLogger {
public:
  // Opens the destination (file in append mode, or stdout/stderr). Errors name the file.
  static Result<std::shared_ptr<AccessLogger>> create(const config::AccessLogConfig& cfg);
  ~AccessLogger();
  void log(const http::StreamInfo& info);
  int fd() const { return fd_; }

private:
  AccessLogger() = default;
  std::variant<Formatter, JsonFormatter> formatter_ = Formatter::defaultFormatter();
  int fd_ = -1;
  bool owns_fd_ = false;
};

// Writes this thread's buffered lines (call from each worker periodically and before exit).
void flushThreadBuffers();

} // namespace wasmgate::accesslog
