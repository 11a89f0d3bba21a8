#pragma once

// Pieces of Proxy-Wasm property answers shared by the HTTP and network Wasm filters: Envoy's
// value encodings (ABI doc 6.2) and path handling.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wasmgate::extensions::wasm {

// Integers are 8 bytes, little-endian.
inline std::string encodePropertyInt(int64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i)
    out[size_t(i)] = char(uint8_t(uint64_t(v) >> (8 * i)));
  return out;
}

// "1.2.3.4:80" -> 80; "[::1]:80" -> 80.
inline std::optional<int64_t> portOf(std::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == address.size())
    return std::nullopt;
  int64_t port = 0;
  for (char c : address.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535)
      return std::nullopt;
    port = port * 10 + (c - '0');
  }
  return port;
}

// Splits "a\0b\0c" (a trailing NUL allowed) into segments.
inline std::vector<std::string_view> splitPropertyPath(std::string_view path) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t nul = path.find('\0', pos);
    if (nul == std::string_view::npos)
      nul = path.size();
    out.push_back(path.substr(pos, nul - pos));
    pos = nul + 1;
  }
  return out;
}

} // namespace wasmgate::extensions::wasm
