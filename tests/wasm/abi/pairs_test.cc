// The serialized header-map format (ABI doc 1.3) and cpp-host's parse limits.

#include <gtest/gtest.h>

#include "wasm/abi/pairs.h"

namespace wasmgate::wasm::abi {
namespace {

using namespace std::string_literals;

std::string le32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i)
    s[i] = char(uint8_t(v >> (8 * i)));
  return s;
}

// The worked example from the Rust SDK tests, byte for byte.
const std::string kRustExample =
    "\x04\x00\x00\x00"
    "\x07\x00\x00\x00\x03\x00\x00\x00"
    "\x05\x00\x00\x00\x08\x00\x00\x00"
    "\x0a\x00\x00\x00\x0b\x00\x00\x00"
    "\x0a\x00\x00\x00\x0a\x00\x00\x00"
    ":method\0GET\0:path\0/bytes/1\0:authority\0httpbin.org\0Powered-By\0proxy-wasm\0"s;

const Pairs kRustPairs = {{":method", "GET"},
                          {":path", "/bytes/1"},
                          {":authority", "httpbin.org"},
                          {"Powered-By", "proxy-wasm"}};

TEST(Pairs, SerializesTheRustSdkExampleExactly) {
  EXPECT_EQ(serializePairs(kRustPairs), kRustExample);
  EXPECT_EQ(serializedPairsSize(kRustPairs), kRustExample.size());
}

TEST(Pairs, ParsesTheRustSdkExample) {
  EXPECT_EQ(deserializePairs(kRustExample), kRustPairs);
  auto views = parsePairs(kRustExample);
  ASSERT_EQ(views.size(), 4u);
  EXPECT_EQ(views[3].first, "Powered-By");
  EXPECT_EQ(views[3].second, "proxy-wasm");
}

TEST(Pairs, EmptyMap) {
  EXPECT_EQ(serializePairs(Pairs{}), std::string(4, '\0'));
  // Every empty encoding the SDKs and the spec use.
  EXPECT_TRUE(parsePairs("").empty());
  EXPECT_TRUE(parsePairs(std::string(4, '\0')).empty());
  EXPECT_TRUE(parsePairs(std::string(1, '\0')).empty());
}

TEST(Pairs, EmptyKeysValuesAndEmbeddedNuls) {
  const Pairs p = {{"", ""}, {"k\0ey"s, "v\0"s}, {"x", ""}};
  const std::string s = serializePairs(p);
  EXPECT_EQ(s.size(), 4 + 3 * 8 + (0 + 1 + 0 + 1) + (4 + 1 + 2 + 1) + (1 + 1 + 0 + 1));
  EXPECT_EQ(deserializePairs(s), p);
}

TEST(Pairs, DuplicatesKeepOrder) {
  const Pairs p = {{"a", "1"}, {"b", "2"}, {"a", "3"}};
  EXPECT_EQ(deserializePairs(serializePairs(p)), p);
}

TEST(Pairs, MalformedInputIsEmpty) {
  const std::string good = serializePairs(Pairs{{"key", "value"}, {"k2", "v2"}});
  ASSERT_EQ(deserializePairs(good).size(), 2u);
  // Truncated anywhere.
  for (size_t n = 0; n < good.size(); ++n)
    EXPECT_TRUE(parsePairs(good.substr(0, n)).empty()) << n;
  // Trailing garbage.
  EXPECT_TRUE(parsePairs(good + "x").empty());
  EXPECT_TRUE(parsePairs(good + '\0').empty());
  // A missing NUL terminator after a key or a value.
  for (size_t pos : {size_t(4 + 16 + 3), size_t(4 + 16 + 4 + 5)}) {
    std::string bad = good;
    ASSERT_EQ(bad[pos], '\0') << pos;
    bad[pos] = 'X';
    EXPECT_TRUE(parsePairs(bad).empty()) << pos;
  }
  // Lengths pointing past the end, including ones that would overflow 32-bit arithmetic.
  for (uint32_t len : {6u, 100u, 0x7fffffffu, 0xfffffffeu, 0xffffffffu}) {
    std::string bad = good;
    bad.replace(4, 4, le32(len));
    EXPECT_TRUE(parsePairs(bad).empty()) << len;
  }
  // A count larger than the data.
  EXPECT_TRUE(parsePairs(le32(3) + good.substr(4)).empty());
  EXPECT_TRUE(parsePairs(le32(0xffffffff)).empty());
  // A non-zero count with nothing after it.
  EXPECT_TRUE(parsePairs(le32(1)).empty());
}

TEST(Pairs, CountLimit) {
  Pairs p;
  for (uint32_t i = 0; i < kMaxPairsCount; ++i)
    p.emplace_back("k" + std::to_string(i), "v");
  EXPECT_EQ(deserializePairs(serializePairs(p)).size(), kMaxPairsCount);
  p.emplace_back("one", "more");
  EXPECT_TRUE(parsePairs(serializePairs(p)).empty());
}

TEST(Pairs, ByteLimit) {
  // One pair whose serialization is exactly 1 MiB parses; one byte more does not.
  const size_t overhead = 4 + 8 + 1 + 1 + 1; // count, lengths, key "k", two NULs
  Pairs p = {{"k", std::string(kMaxPairsBytes - overhead, 'v')}};
  ASSERT_EQ(serializedPairsSize(p), kMaxPairsBytes);
  EXPECT_EQ(deserializePairs(serializePairs(p)).size(), 1u);
  p[0].second.push_back('v');
  EXPECT_TRUE(parsePairs(serializePairs(p)).empty());
}

TEST(Pairs, ViewsSerializeLikeStrings) {
  const PairViews v = parsePairs(kRustExample);
  EXPECT_EQ(serializePairs(v), kRustExample);
  EXPECT_EQ(serializedPairsSize(v), kRustExample.size());
}

} // namespace
} // namespace wasmgate::wasm::abi
