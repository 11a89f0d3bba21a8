#include "common/logger.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <string>

namespace wasmgate::log {

std::atomic<int> g_level{int(Level::Info)};

bool parseLevel(std::string_view name, Level& out) {
  static constexpr std::pair<std::string_view, Level> kNames[] = {
      {"trace", Level::Trace}, {"debug", Level::Debug},       {"info", Level::Info},
      {"warn", Level::Warn},   {"warning", Level::Warn},      {"error", Level::Error},
      {"critical", Level::Critical}, {"off", Level::Off}};
  for (const auto& [n, l] : kNames) {
    if (n == name) {
      out = l;
      return true;
    }
  }
  return false;
}

const char* levelName(Level l) {
  switch (l) {
  case Level::Trace: return "trace";
  case Level::Debug: return "debug";
  case Level::Info: return "info";
  case Level::Warn: return "warning";
  case Level::Error: return "error";
  case Level::Critical: return "critical";
  case Level::Off: return "off";
  }
  return "?";
}

void write(Level l, std::string_view msg) {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm;
  gmtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
  std::string line = fmt::format("[{}.{:03d}][{}] {}\n", ts, int(ms), levelName(l), msg);
  ssize_t rc = ::write(STDERR_FILENO, line.data(), line.size());
  (void)rc;
}

} // namespace wasmgate::log
