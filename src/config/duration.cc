#include "config/duration.h"

#include <cstdint>

namespace wasmgate::config {
namespace {

constexpr std::string_view kExpected = "expected e.g. \"0.25s\" or {seconds, nanos}";
// google.protobuf.Duration's documented range: +-10000 years.
constexpr int64_t kMaxSeconds = 315576000000;
constexpr int64_t kNanosPerSecond = 1000000000;

Status invalid(std::string_view text, std::string_view why) {
  return Status::error("invalid duration '" + std::string(text) + "' (" + std::string(why) + ")");
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Parses an unsigned decimal integer made only of digits; false on anything else or overflow.
bool parseDigits(std::string_view s, int64_t max, int64_t& out) {
  if (s.empty())
    return false;
  int64_t v = 0;
  for (char c : s) {
    if (!isDigit(c))
      return false;
    v = v * 10 + (c - '0');
    if (v > max)
      return false;
  }
  out = v;
  return true;
}

// Accepts a YAML int or a quoted string of digits (protobuf JSON allows both for int64).
Status objectInteger(const YAML::Node& node, const std::string& path, int64_t max, int64_t& out) {
  if (!node.IsScalar())
    return Status::error(path + ": expected an integer, got " +
                         (node.IsMap() ? std::string("a map") : std::string("a list")));
  const std::string& s = node.Scalar();
  if (!s.empty() && s[0] == '-' && s.size() > 1 && isDigit(s[1]))
    return Status::error(path + ": must not be negative, got '" + s + "'");
  if (!parseDigits(s, INT64_MAX / 10, out))
    return Status::error(path + ": expected an integer, got '" + s + "'");
  if (out > max)
    return Status::error(path + ": " + s + " is out of range 0.." + std::to_string(max));
  return okStatus();
}

} // namespace

std::chrono::milliseconds ceilToMillis(std::chrono::nanoseconds ns) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(ns);
  if (ms < ns)
    ms += std::chrono::milliseconds(1);
  return ms;
}

Result<std::chrono::nanoseconds> parseDurationString(std::string_view text) {
  if (text.empty() || text.back() != 's')
    return invalid(text, kExpected);
  std::string_view body = text.substr(0, text.size() - 1);
  if (!body.empty() && body[0] == '-')
    return invalid(text, "must not be negative");
  std::string_view whole = body;
  std::string_view frac;
  if (auto dot = body.find('.'); dot != std::string_view::npos) {
    whole = body.substr(0, dot);
    frac = body.substr(dot + 1);
    if (frac.empty())
      return invalid(text, kExpected);
  }
  int64_t seconds = 0;
  if (!parseDigits(whole, INT64_MAX / 10, seconds))
    return invalid(text, kExpected);
  if (seconds > kMaxSeconds)
    return invalid(text, "too large");
  int64_t nanos = 0;
  if (!frac.empty()) {
    if (frac.size() > 9)
      return invalid(text, "at most 9 fractional digits");
    if (!parseDigits(frac, INT64_MAX, nanos))
      return invalid(text, kExpected);
    for (size_t i = frac.size(); i < 9; ++i)
      nanos *= 10;
  }
  return std::chrono::nanoseconds(seconds * kNanosPerSecond + nanos);
}

Result<std::chrono::milliseconds> parseDuration(const YAML::Node& node, const std::string& path) {
  if (node.IsScalar()) {
    auto parsed = parseDurationString(node.Scalar());
    if (!parsed.ok())
      return Status::error(path + ": " + parsed.error());
    return ceilToMillis(*parsed);
  }
  if (node.IsMap()) {
    int64_t seconds = 0;
    int64_t nanos = 0;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string("?");
      const std::string key_path = path + "." + key;
      if (key == "seconds") {
        WG_RETURN_IF_ERROR(objectInteger(it->second, key_path, kMaxSeconds, seconds));
      } else if (key == "nanos") {
        WG_RETURN_IF_ERROR(objectInteger(it->second, key_path, kNanosPerSecond - 1, nanos));
      } else {
        return Status::error(key_path + ": unknown field (a duration has seconds and nanos)");
      }
    }
    return ceilToMillis(std::chrono::nanoseconds(seconds * kNanosPerSecond + nanos));
  }
  return Status::error(path + ": invalid duration, got " +
                       (node.IsSequence() ? std::string("a list") : std::string("null")) + " (" +
                       std::string(kExpected) + ")");
}

} // namespace wasmgate::config
