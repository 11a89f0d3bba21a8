// The serialized map format (proxy-wasm-abi.md 1.3) against hand-written bytes.
#include <cstdlib>
#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "proxy_wasm_intrinsics.h"
#include "fake_host.h"

namespace {

using std::string_literals::operator""s;

// The ABI document's worked example (taken from the Rust SDK tests), byte for byte.
const std::string kWorkedExample =
    "\x04\x00\x00\x00"                 // N = 4
    "\x07\x00\x00\x00\x03\x00\x00\x00" // ":method" (7), "GET" (3)
    "\x05\x00\x00\x00\x08\x00\x00\x00" // ":path" (5), "/bytes/1" (8)
    "\x0a\x00\x00\x00\x0b\x00\x00\x00" // ":authority" (10), "httpbin.org" (11)
    "\x0a\x00\x00\x00\x0a\x00\x00\x00" // "Powered-By" (10), "proxy-wasm" (10)
    ":method\0GET\0:path\0/bytes/1\0:authority\0httpbin.org\0Powered-By\0proxy-wasm\0"s;

const HeaderStringPairs kWorkedPairs = {{":method", "GET"},
                                        {":path", "/bytes/1"},
                                        {":authority", "httpbin.org"},
                                        {"Powered-By", "proxy-wasm"}};

std::string marshal(const HeaderStringPairs &pairs) {
  std::string out(pairsSize(pairs), '\xAA');
  marshalPairs(pairs, out.data());
  return out;
}

// WasmData owns malloc'ed memory, like a hostcall result.
WasmDataPtr wasmData(const std::string &bytes) {
  char *copy = static_cast<char *>(::malloc(bytes.size()));
  memcpy(copy, bytes.data(), bytes.size());
  return std::make_unique<WasmData>(copy, bytes.size());
}

TEST(Pairs, WorkedExampleSizeMatchesFormula) {
  // 4 + sum(8 + key + 1 + value + 1)
  EXPECT_EQ(kWorkedExample.size(), 4u + (8 + 7 + 1 + 3 + 1) + (8 + 5 + 1 + 8 + 1) +
                                       (8 + 10 + 1 + 11 + 1) + (8 + 10 + 1 + 10 + 1));
  EXPECT_EQ(pairsSize(kWorkedPairs), kWorkedExample.size());
}

TEST(Pairs, MarshalIsByteExact) { EXPECT_EQ(marshal(kWorkedPairs), kWorkedExample); }

TEST(Pairs, ParsesHandWrittenBuffer) {
  auto data = wasmData(kWorkedExample);
  auto pairs = data->pairs();
  ASSERT_EQ(pairs.size(), 4u);
  for (size_t i = 0; i < pairs.size(); i++) {
    EXPECT_EQ(pairs[i].first, kWorkedPairs[i].first);
    EXPECT_EQ(pairs[i].second, kWorkedPairs[i].second);
  }
}

TEST(Pairs, AgreesWithIndependentCodec) {
  HeaderStringPairs tricky = {
      {"", ""}, {"nul", "a\0b"s}, {"bin\xff", std::string(300, 'x')}, {"dup", "1"}, {"dup", "2"}};
  sdk_test::Pairs expected(tricky.begin(), tricky.end());
  EXPECT_EQ(marshal(tricky), sdk_test::encodePairs(expected));
  sdk_test::Pairs decoded;
  ASSERT_TRUE(sdk_test::decodePairs(marshal(tricky), &decoded));
  EXPECT_EQ(decoded, expected);

  auto data = wasmData(sdk_test::encodePairs(expected)); // pairs() are views into it
  auto round_trip = data->pairs();
  ASSERT_EQ(round_trip.size(), tricky.size());
  for (size_t i = 0; i < tricky.size(); i++) {
    EXPECT_EQ(round_trip[i].first, tricky[i].first);
    EXPECT_EQ(round_trip[i].second, tricky[i].second);
  }
}

TEST(Pairs, EmptyMapIsExportedAsNullAndZero) {
  const char *ptr = reinterpret_cast<const char *>(0x1);
  size_t size = 99;
  exportPairs(HeaderStringPairs{}, &ptr, &size);
  EXPECT_EQ(ptr, nullptr);
  EXPECT_EQ(size, 0u);
  // The 4-byte form of an empty map is also accepted when reading.
  EXPECT_TRUE(wasmData("\0\0\0\0"s)->pairs().empty());
  EXPECT_TRUE(WasmData(nullptr, 0).pairs().empty());
}

TEST(Pairs, ExportPairsOwnsAMallocedCopy) {
  const char *ptr = nullptr;
  size_t size = 0;
  exportPairs(kWorkedPairs, &ptr, &size);
  ASSERT_NE(ptr, nullptr);
  EXPECT_EQ(std::string(ptr, size), kWorkedExample);
  ::free(const_cast<char *>(ptr));
}

TEST(Pairs, MalformedBuffersYieldNoPairs) {
  // Truncated anywhere: never read past the end.
  for (size_t n = 1; n < kWorkedExample.size(); n++) {
    EXPECT_TRUE(wasmData(kWorkedExample.substr(0, n))->pairs().empty()) << "length " << n;
  }
  // A count that cannot fit.
  EXPECT_TRUE(wasmData("\xff\xff\xff\xff\0\0\0\0"s)->pairs().empty());
  // Lengths larger than the data.
  EXPECT_TRUE(wasmData("\x01\0\0\0\xff\xff\xff\x7f\x00\0\0\0k\0\0"s)->pairs().empty());
}

} // namespace
