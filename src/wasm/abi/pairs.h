#pragma once

// The Proxy-Wasm serialized header-map format (ABI doc 1.3), used by get/set_header_map_pairs,
// send_local_response and callout headers, gRPC metadata and map-typed properties:
//
//   u32 N | N x { u32 key_len, u32 value_len } | N x { key, 0x00, value, 0x00 }
//
// All integers little-endian, no padding; lengths exclude the NUL. Parsing follows cpp-host's
// PairsUtil::toPairs: anything malformed or over the limits yields an *empty* map, never an
// error (set_header_map_pairs with garbage clears the map and returns Ok).
// Pure functions with no dependencies, so they can be fuzzed directly.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wasmgate::wasm::abi {

// cpp-host's PROXY_WASM_HOST_PAIRS_MAX_BYTES / _MAX_COUNT: larger inputs parse as empty.
inline constexpr size_t kMaxPairsBytes = 1024 * 1024;
inline constexpr uint32_t kMaxPairsCount = 1024;

using Pairs = std::vector<std::pair<std::string, std::string>>;
using PairViews = std::vector<std::pair<std::string_view, std::string_view>>;

// Exact size of the serialized form.
size_t serializedPairsSize(std::span<const std::pair<std::string, std::string>> pairs);
size_t serializedPairsSize(std::span<const std::pair<std::string_view, std::string_view>> pairs);

// Serializes in the given order. An empty map serializes to four zero bytes (as the SDKs do);
// host functions return an empty map as the (0,0) pair instead, without calling this.
std::string serializePairs(std::span<const std::pair<std::string, std::string>> pairs);
std::string serializePairs(std::span<const std::pair<std::string_view, std::string_view>> pairs);

// Views into `bytes` (valid while it is). Empty on malformed input, > kMaxPairsBytes or
// > kMaxPairsCount pairs; the empty encodings (no bytes, 4 zero bytes, a lone 0x00) are empty.
PairViews parsePairs(std::string_view bytes);

// Owning copy of parsePairs().
Pairs deserializePairs(std::string_view bytes);

} // namespace wasmgate::wasm::abi
