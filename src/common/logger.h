#pragma once

// Process-wide leveled logger. The level is an atomic so /logging can change it at runtime and
// disabled levels cost one relaxed load on the request path.

#include <atomic>
#include <string_view>

#include <fmt/format.h>

namespace wasmgate::log {

enum class Level : int { Trace = 0, Debug, Info, Warn, Error, Critical, Off };

extern std::atomic<int> g_level;

inline bool enabled(Level l) { return int(l) >= g_level.load(std::memory_order_relaxed); }
inline void setLevel(Level l) { g_level.store(int(l), std::memory_order_relaxed); }
inline Level level() { return Level(g_level.load(std::memory_order_relaxed)); }

// Parses Envoy's level names (trace, debug, info, warning/warn, error, critical, off).
bool parseLevel(std::string_view name, Level& out);
const char* levelName(Level l);

// Writes one line to stderr (single write() call so lines from threads don't interleave).
void write(Level l, std::string_view msg);

} // namespace wasmgate::log

#define WG_LOG(lvl, ...)                                                                           \
  do {                                                                                             \
    if (::wasmgate::log::enabled(::wasmgate::log::Level::lvl))                                     \
      ::wasmgate::log::write(::wasmgate::log::Level::lvl, ::fmt::format(__VA_ARGS__));             \
  } while (0)

#define WG_TRACE(...) WG_LOG(Trace, __VA_ARGS__)
#define WG_DEBUG(...) WG_LOG(Debug, __VA_ARGS__)
#define WG_INFO(...) WG_LOG(Info, __VA_ARGS__)
#define WG_WARN(...) WG_LOG(Warn, __VA_ARGS__)
#define WG_ERROR(...) WG_LOG(Error, __VA_ARGS__)
