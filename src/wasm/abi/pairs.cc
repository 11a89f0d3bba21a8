#include "wasm/abi/pairs.h"

#include <cstring>

namespace wasmgate::wasm::abi {

namespace {

uint32_t readU32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
}

void writeU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = char(uint8_t(v >> (8 * i)));
}

template <class Pair> size_t sizeOf(std::span<const Pair> pairs) {
  size_t n = 4;
  for (const auto& [k, v] : pairs)
    n += 8 + k.size() + 1 + v.size() + 1;
  return n;
}

template <class Pair> std::string serialize(std::span<const Pair> pairs) {
  std::string out(sizeOf(pairs), '\0');
  char* p = out.data();
  writeU32(p, uint32_t(pairs.size()));
  p += 4;
  for (const auto& [k, v] : pairs) {
    writeU32(p, uint32_t(k.size()));
    writeU32(p + 4, uint32_t(v.size()));
    p += 8;
  }
  // The string was zero-filled, so skipping one byte after each string writes its NUL.
  for (const auto& [k, v] : pairs) {
    if (!k.empty())
      std::memcpy(p, k.data(), k.size());
    p += k.size() + 1;
    if (!v.empty())
      std::memcpy(p, v.data(), v.size());
    p += v.size() + 1;
  }
  return out;
}

} // namespace

size_t serializedPairsSize(std::span<const std::pair<std::string, std::string>> pairs) {
  return sizeOf(pairs);
}
size_t serializedPairsSize(std::span<const std::pair<std::string_view, std::string_view>> pairs) {
  return sizeOf(pairs);
}
std::string serializePairs(std::span<const std::pair<std::string, std::string>> pairs) {
  return serialize(pairs);
}
std::string serializePairs(std::span<const std::pair<std::string_view, std::string_view>> pairs) {
  return serialize(pairs);
}

PairViews parsePairs(std::string_view bytes) {
  if (bytes.size() > kMaxPairsBytes || bytes.size() < 4)
    return {};
  const uint32_t count = readU32(bytes.data());
  if (count > kMaxPairsCount)
    return {};
  // Every remaining check compares against the bytes left (no pointer arithmetic that could
  // overflow on hostile lengths); the count bound keeps the allocation below small.
  size_t pos = 4;
  if (uint64_t(count) * 8 > bytes.size() - pos)
    return {};
  std::vector<std::pair<uint32_t, uint32_t>> lengths(count);
  for (auto& [k, v] : lengths) {
    k = readU32(bytes.data() + pos);
    v = readU32(bytes.data() + pos + 4);
    pos += 8;
  }
  PairViews out;
  out.reserve(count);
  auto take = [&](uint32_t len, std::string_view& s) {
    if (uint64_t(len) + 1 > bytes.size() - pos || bytes[pos + len] != '\0')
      return false;
    s = bytes.substr(pos, len);
    pos += size_t(len) + 1;
    return true;
  };
  for (const auto& [klen, vlen] : lengths) {
    std::string_view k, v;
    if (!take(klen, k) || !take(vlen, v))
      return {};
    out.emplace_back(k, v);
  }
  if (pos != bytes.size()) // trailing garbage
    return {};
  return out;
}

Pairs deserializePairs(std::string_view bytes) {
  Pairs out;
  const PairViews views = parsePairs(bytes);
  out.reserve(views.size());
  for (const auto& [k, v] : views)
    out.emplace_back(std::string(k), std::string(v));
  return out;
}

} // namespace wasmgate::wasm::abi
