#pragma once

// Protobuf Duration in the two shapes Envoy configs use: the JSON-mapping string ("0.25s")
// and the object form ({seconds, nanos}).

#include <chrono>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "common/status.h"

namespace wasmgate::config {

// Parses "<decimal seconds>s" with at most 9 fractional digits, e.g. "5s", "0.25s", "1.5s".
// Negative values are rejected. The error message has no path: "invalid duration '5' (...)".
Result<std::chrono::nanoseconds> parseDurationString(std::string_view text);

// Parses a Duration config node (string or {seconds, nanos}). Sub-millisecond remainders round
// up, so a non-zero duration never becomes 0ms (0 usually means "disabled" in Envoy).
// Errors are "<path>: invalid duration ...".
Result<std::chrono::milliseconds> parseDuration(const YAML::Node& node, const std::string& path);

// Rounds nanoseconds up to whole milliseconds.
std::chrono::milliseconds ceilToMillis(std::chrono::nanoseconds ns);

} // namespace wasmgate::config
