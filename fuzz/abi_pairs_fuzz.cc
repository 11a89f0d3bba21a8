// libFuzzer target for the Proxy-Wasm serialized header-map format (src/wasm/abi/pairs.cc).
// Every input is parsed; a parse that succeeds must re-serialize to exactly the input (the
// format is canonical) and respect the limits; an input that fails parses as empty. The
// parsed pairs (and the input split into pairs) also round-trip through serializePairs.
// Invariant violations abort.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "wasm/abi/pairs.h"

using namespace wasmgate::wasm::abi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  const PairViews views = parsePairs(input);
  CHECK(views.size() <= kMaxPairsCount);
  for (const auto& [k, v] : views) {
    // Views point into the input.
    CHECK(k.data() >= input.data() && k.data() + k.size() <= input.data() + input.size());
    CHECK(v.data() >= input.data() && v.data() + v.size() <= input.data() + input.size());
  }
  if (!views.empty()) {
    CHECK(input.size() <= kMaxPairsBytes);
    CHECK(serializedPairsSize(views) == input.size());
    CHECK(serializePairs(views) == input);
  }
  const Pairs owned = deserializePairs(input);
  CHECK(owned.size() == views.size());

  // Arbitrary pairs (the input cut in two at its first byte's position) round-trip.
  const size_t cut = size ? data[0] % (size + 1) : 0;
  Pairs made = {{std::string(input.substr(0, cut)), std::string(input.substr(cut))}, {"", ""}};
  const std::string bytes = serializePairs(made);
  CHECK(bytes.size() == serializedPairsSize(made));
  if (bytes.size() <= kMaxPairsBytes)
    CHECK(deserializePairs(bytes) == made);
  else
    CHECK(parsePairs(bytes).empty());
  return 0;
}
