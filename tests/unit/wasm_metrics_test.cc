#include "extensions/common/wasm/metrics.h"

#include <gtest/gtest.h>

namespace wasmgate::extensions::wasm {
namespace {

using R = VmMetrics::WasmResult;

TEST(VmMetrics, IdsEncodeTheTypeAsEnvoyDoes) {
  stats::Store store;
  VmMetrics m(&store);
  uint32_t c1 = 0, g1 = 0, h1 = 0, c2 = 0;
  ASSERT_EQ(m.define(0, "c", c1), R::Ok);
  ASSERT_EQ(m.define(1, "g", g1), R::Ok);
  ASSERT_EQ(m.define(2, "h", h1), R::Ok);
  ASSERT_EQ(m.define(0, "c2", c2), R::Ok);
  EXPECT_EQ(c1, 4u);
  EXPECT_EQ(g1, 5u);
  EXPECT_EQ(h1, 6u);
  EXPECT_EQ(c2, 8u);
  uint32_t id = 0;
  EXPECT_EQ(m.define(3, "bad", id), R::BadArgument);
  EXPECT_EQ(m.define(0, "", id), R::BadArgument);
  // The stats live under the wasmcustom namespace, which Prometheus output strips.
  EXPECT_NE(store.findCounter("wasmcustom.c"), nullptr);
  EXPECT_NE(store.findGauge("wasmcustom.g"), nullptr);
  EXPECT_NE(store.findHistogram("wasmcustom.h"), nullptr);
  EXPECT_EQ(store.customStatNamespaces(), std::vector<std::string>{"wasmcustom"});
}

TEST(VmMetrics, CountersGaugesHistogramsFollowEnvoysRules) {
  stats::Store store;
  VmMetrics m(&store);
  uint32_t c = 0, g = 0, h = 0;
  ASSERT_EQ(m.define(0, "c", c), R::Ok);
  ASSERT_EQ(m.define(1, "g", g), R::Ok);
  ASSERT_EQ(m.define(2, "h", h), R::Ok);
  uint64_t v = 0;

  EXPECT_EQ(m.increment(c, 3), R::Ok);
  EXPECT_EQ(m.increment(c, 0), R::BadArgument);  // counters only go up
  EXPECT_EQ(m.increment(c, -1), R::BadArgument);
  EXPECT_EQ(m.record(c, 2), R::Ok);              // record adds to a counter
  ASSERT_EQ(m.get(c, v), R::Ok);
  EXPECT_EQ(v, 5u);

  EXPECT_EQ(m.increment(g, 10), R::Ok);
  EXPECT_EQ(m.increment(g, -4), R::Ok);
  ASSERT_EQ(m.get(g, v), R::Ok);
  EXPECT_EQ(v, 6u);
  EXPECT_EQ(m.record(g, 42), R::Ok);             // record sets a gauge
  ASSERT_EQ(m.get(g, v), R::Ok);
  EXPECT_EQ(v, 42u);

  EXPECT_EQ(m.record(h, 7), R::Ok);
  EXPECT_EQ(m.increment(h, 1), R::BadArgument);
  EXPECT_EQ(m.get(h, v), R::BadArgument);
  EXPECT_EQ(store.findHistogram("wasmcustom.h")->count(), 1u);

  // Ids never handed out, of every type.
  for (uint32_t bad : {0u, 1u, 2u, 3u, 12u, 13u, 14u, 0xFFFFFFFFu}) {
    EXPECT_EQ(m.increment(bad, 1), R::NotFound) << bad;
    EXPECT_EQ(m.record(bad, 1), R::NotFound) << bad;
    EXPECT_EQ(m.get(bad, v), R::NotFound) << bad;
  }
}

TEST(VmMetrics, SameNameInTwoVmsIsOneStat) {
  stats::Store store;
  VmMetrics a(&store), b(&store);
  uint32_t ia = 0, ib = 0;
  ASSERT_EQ(a.define(0, "shared", ia), R::Ok);
  ASSERT_EQ(b.define(0, "shared", ib), R::Ok);
  ASSERT_EQ(a.increment(ia, 1), R::Ok);
  ASSERT_EQ(b.increment(ib, 2), R::Ok);
  EXPECT_EQ(store.findCounter("wasmcustom.shared")->value(), 3u);
}

} // namespace
} // namespace wasmgate::extensions::wasm
