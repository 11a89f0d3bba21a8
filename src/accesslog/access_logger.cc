#include "accesslog/access_logger.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

namespace wasmgate::accesslog {

namespace {
constexpr size_t kFlushThreshold = 64 * 1024;

void writeAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    off += size_t(n);
  }
}

// Per-thread pending lines, keyed by fd.
struct ThreadBuffers {
  std::unordered_map<int, std::string> by_fd;
  ~ThreadBuffers() { flush(); }
  void flush() {
    for (auto& [fd, s] : by_fd) {
      if (!s.empty()) {
        writeAll(fd, s);
        s.clear();
      }
    }
  }
};
thread_local ThreadBuffers t_buffers;
} // namespace

Result<std::shared_ptr<AccessLogger>> AccessLogger::create(const config::AccessLogConfig& cfg) {
  auto logger = std::shared_ptr<AccessLogger>(new AccessLogger());
  if (!cfg.json_format.empty()) {
    auto f = JsonFormatter::parse(cfg.json_format);
    if (!f.ok())
      return f.status();
    logger->formatter_ = std::move(*f);
  } else if (!cfg.format.empty()) {
    auto f = Formatter::parse(cfg.format);
    if (!f.ok())
      return f.status();
    logger->formatter_ = std::move(*f);
  }
  switch (cfg.sink) {
  case config::AccessLogConfig::Sink::Stdout:
    logger->fd_ = STDOUT_FILENO;
    break;
  case config::AccessLogConfig::Sink::Stderr:
    logger->fd_ = STDERR_FILENO;
    break;
  case config::AccessLogConfig::Sink::File:
    if (cfg.path == "/dev/stdout") {
      logger->fd_ = STDOUT_FILENO;
    } else if (cfg.path == "/dev/stderr") {
      logger->fd_ = STDERR_FILENO;
    } else {
      logger->fd_ = ::open(cfg.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (logger->fd_ < 0)
        return Status::error("cannot open access log '" + cfg.path + "': " + strerror(errno));
      logger->owns_fd_ = true;
    }
    break;
  }
  return logger;
}

AccessLogger::~AccessLogger() {
  if (owns_fd_) {
    // Lines still buffered on this thread for this fd go out first.
    auto it = t_buffers.by_fd.find(fd_);
    if (it != t_buffers.by_fd.end()) {
      writeAll(fd_, it->second);
      t_buffers.by_fd.erase(it);
    }
    ::close(fd_);
  }
}

void AccessLogger::log(const http::StreamInfo& info) {
  std::string& buf = t_buffers.by_fd[fd_];
  std::visit([&](const auto& f) { f.format(info, buf); }, formatter_);
  if (buf.size() >= kFlushThreshold) {
    writeAll(fd_, buf);
    buf.clear();
  }
}

void flushThreadBuffers() { t_buffers.flush(); }

} // namespace wasmgate::accesslog
