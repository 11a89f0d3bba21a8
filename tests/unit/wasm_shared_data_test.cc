#include "extensions/common/wasm/shared_data.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace wasmgate::extensions::wasm {
namespace {

using R = SharedData::WasmResult;

TEST(SharedData, GetSetAndCas) {
  SharedData d;
  std::string v;
  uint32_t cas = 0;
  EXPECT_EQ(d.get("vm", "k", v, cas), R::NotFound);
  // An absent key is written whatever the cas (cpp-host).
  EXPECT_EQ(d.set("vm", "k", "one", 12345), R::Ok);
  ASSERT_EQ(d.get("vm", "k", v, cas), R::Ok);
  EXPECT_EQ(v, "one");
  EXPECT_NE(cas, 0u);
  const uint32_t first = cas;
  EXPECT_EQ(d.set("vm", "k", "two", first), R::Ok);
  ASSERT_EQ(d.get("vm", "k", v, cas), R::Ok);
  EXPECT_EQ(v, "two");
  EXPECT_NE(cas, first);
  // A stale token fails and changes nothing; 0 always writes.
  EXPECT_EQ(d.set("vm", "k", "three", first), R::CasMismatch);
  ASSERT_EQ(d.get("vm", "k", v, cas), R::Ok);
  EXPECT_EQ(v, "two");
  EXPECT_EQ(d.set("vm", "k", "four", 0), R::Ok);
  ASSERT_EQ(d.get("vm", "k", v, cas), R::Ok);
  EXPECT_EQ(v, "four");
}

TEST(SharedData, VmIdsAreSeparateStores) {
  SharedData d;
  ASSERT_EQ(d.set("a", "k", "for a", 0), R::Ok);
  std::string v;
  uint32_t cas = 0;
  EXPECT_EQ(d.get("b", "k", v, cas), R::NotFound);
  EXPECT_EQ(d.get("", "k", v, cas), R::NotFound);
  ASSERT_EQ(d.set("", "k", "for the empty vm_id", 0), R::Ok);
  ASSERT_EQ(d.get("a", "k", v, cas), R::Ok);
  EXPECT_EQ(v, "for a");
}

TEST(SharedData, LimitsRefuseCleanly) {
  SharedData d;
  d.setLimits({/*max_value_bytes=*/4, /*max_keys_per_vm_id=*/2});
  EXPECT_EQ(d.set("vm", "a", "12345", 0), R::BadArgument);
  EXPECT_EQ(d.set("vm", "a", "1234", 0), R::Ok);
  EXPECT_EQ(d.set("vm", "b", "1", 0), R::Ok);
  EXPECT_EQ(d.set("vm", "c", "1", 0), R::InternalFailure);
  EXPECT_EQ(d.size("vm"), 2u);
  // Existing keys can still be updated, and other vm_ids have their own budget.
  EXPECT_EQ(d.set("vm", "a", "9", 0), R::Ok);
  EXPECT_EQ(d.set("other", "c", "1", 0), R::Ok);
}

// Every thread increments one counter with the CAS loop plugins use: no update is lost. (The
// counter exists first: a set of an absent key ignores the token, so two first writers race.)
TEST(SharedData, CasIncrementsFromManyThreadsLoseNothing) {
  SharedData d;
  ASSERT_EQ(d.set("vm", "counter", "0", 0), R::Ok);
  constexpr int kThreads = 4, kIncrements = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&d] {
      for (int i = 0; i < kIncrements; ++i) {
        for (;;) {
          std::string v;
          uint32_t cas = 0;
          uint64_t n = 0;
          if (d.get("vm", "counter", v, cas) == R::Ok)
            n = std::stoull(v);
          if (d.set("vm", "counter", std::to_string(n + 1), cas) == R::Ok)
            break;
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  std::string v;
  uint32_t cas = 0;
  ASSERT_EQ(d.get("vm", "counter", v, cas), R::Ok);
  EXPECT_EQ(v, std::to_string(kThreads * kIncrements));
}

} // namespace
} // namespace wasmgate::extensions::wasm
