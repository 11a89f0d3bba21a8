#include "stats/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <thread>
#include <vector>

namespace wasmgate::stats {
namespace {

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line))
    out.push_back(line);
  return out;
}

size_t countOf(const std::vector<std::string>& ls, const std::string& line) {
  return size_t(std::count(ls.begin(), ls.end(), line));
}

TEST(StatsJoin, SkipsEmptySides) {
  EXPECT_EQ(join("cluster.a", "upstream_rq_total"), "cluster.a.upstream_rq_total");
  EXPECT_EQ(join("", "x"), "x");
  EXPECT_EQ(join("x", ""), "x");
  EXPECT_EQ(join("x.", "y"), "x.y");
}

TEST(StatsCounter, IncAndUsed) {
  Store store;
  Counter& c = store.counter("a.b");
  EXPECT_FALSE(c.used());
  EXPECT_EQ(c.value(), 0u);
  c.inc();
  c.inc(41);
  EXPECT_EQ(c.value(), 42u);
  EXPECT_TRUE(c.used());
  EXPECT_EQ(&store.counter("a.b"), &c); // find-or-create returns the same metric
  EXPECT_EQ(store.findCounter("a.b"), &c);
  EXPECT_EQ(store.findCounter("nope"), nullptr);
  EXPECT_EQ(c.name(), "a.b");
}

TEST(StatsCounter, ConcurrentIncrementsAreExact) {
  Store store;
  Counter& c = store.counter("concurrent");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i)
        c.inc();
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(c.value(), 400000u);
}

TEST(StatsGauge, ArithmeticAndClamp) {
  Store store;
  Gauge& g = store.gauge("g");
  EXPECT_FALSE(g.used());
  g.inc();
  g.inc();
  g.dec();
  EXPECT_EQ(g.value(), 1u);
  g.add(10);
  EXPECT_EQ(g.value(), 11u);
  g.add(-5);
  EXPECT_EQ(g.value(), 6u);
  g.sub(2);
  EXPECT_EQ(g.value(), 4u);
  g.sub(100); // clamps instead of wrapping
  EXPECT_EQ(g.value(), 0u);
  g.dec();
  EXPECT_EQ(g.value(), 0u);
  g.add(INT64_MIN);
  EXPECT_EQ(g.value(), 0u);
  g.set(77);
  EXPECT_EQ(g.value(), 77u);
  EXPECT_TRUE(g.used());
  EXPECT_EQ(store.findGauge("g"), &g);
}

TEST(StatsGauge, ConcurrentIncDec) {
  Store store;
  Gauge& g = store.gauge("g");
  Gauge& up = store.gauge("up");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) {
        g.inc();
        up.add(2);
      }
      for (int i = 0; i < 100000; ++i)
        g.dec();
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(g.value(), 0u);
  EXPECT_EQ(up.value(), 800000u);
}

TEST(StatsHistogram, BucketsSumAndCount) {
  Store store;
  Histogram& h = store.histogram("h");
  EXPECT_FALSE(h.used());
  for (uint64_t v : {0, 1, 3, 5, 7, 100, 101, 5000000})
    h.recordValue(v);
  EXPECT_TRUE(h.used());
  const Histogram::Snapshot s = h.snapshot();
  ASSERT_EQ(s.bounds.size(), 19u);
  ASSERT_EQ(s.counts.size(), 20u);
  EXPECT_EQ(s.count, 8u);
  EXPECT_EQ(s.sum, 0u + 1 + 3 + 5 + 7 + 100 + 101 + 5000000);
  EXPECT_EQ(s.min, 0u);
  EXPECT_EQ(s.max, 5000000u);
  EXPECT_EQ(s.counts[0], 1u);  // <= 0.5
  EXPECT_EQ(s.counts[1], 1u);  // <= 1
  EXPECT_EQ(s.counts[2], 2u);  // <= 5 (3, 5)
  EXPECT_EQ(s.counts[3], 1u);  // <= 10
  EXPECT_EQ(s.counts[6], 1u);  // <= 100
  EXPECT_EQ(s.counts[7], 1u);  // <= 250
  EXPECT_EQ(s.counts[19], 1u); // overflow
  const auto cum = s.cumulativeCounts();
  ASSERT_EQ(cum.size(), 19u);
  EXPECT_EQ(cum[0], 1u);
  EXPECT_EQ(cum[2], 4u);
  EXPECT_EQ(cum[6], 6u);
  EXPECT_EQ(cum[18], 7u); // the overflow sample is only in +Inf
}

TEST(StatsHistogram, Quantiles) {
  Histogram h("h");
  EXPECT_TRUE(std::isnan(h.snapshot().quantile(0.5)));
  for (uint64_t v = 1; v <= 100; ++v)
    h.recordValue(v);
  const auto s = h.snapshot();
  EXPECT_DOUBLE_EQ(s.quantile(0), 1);
  EXPECT_DOUBLE_EQ(s.quantile(0.5), 50);
  EXPECT_DOUBLE_EQ(s.quantile(0.75), 75);
  EXPECT_DOUBLE_EQ(s.quantile(0.9), 90);
  EXPECT_DOUBLE_EQ(s.quantile(0.99), 99);
  EXPECT_DOUBLE_EQ(s.quantile(1), 100);
  // Inside the (10, 25] bucket: 15 samples, P25 is the 25th -> 10 + 15 * (15/15).
  EXPECT_DOUBLE_EQ(s.quantile(0.25), 25);

  Histogram one("one");
  one.recordValue(7); // a single sample is exact at every quantile
  for (double q : kSupportedQuantiles)
    EXPECT_DOUBLE_EQ(one.snapshot().quantile(q), 7);

  Histogram big("big");
  big.recordValue(4000000);
  big.recordValue(5000000); // both in the overflow bucket, bounded by the observed max
  EXPECT_DOUBLE_EQ(big.snapshot().quantile(1), 5000000);
  EXPECT_DOUBLE_EQ(big.snapshot().quantile(0), 4000000);
  EXPECT_DOUBLE_EQ(big.snapshot().quantile(0.5), 4500000);
}

TEST(StatsHistogram, ConcurrentRecord) {
  Histogram h("h");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i)
        h.recordValue(uint64_t(i % 100));
    });
  for (auto& t : threads)
    t.join();
  const auto s = h.snapshot();
  EXPECT_EQ(s.count, 400000u);
  EXPECT_EQ(h.count(), 400000u);
  EXPECT_EQ(s.sum, 4u * 1000u * 4950u);
  EXPECT_EQ(s.min, 0u);
  EXPECT_EQ(s.max, 99u);
}

TEST(StatsHistogram, CustomBounds) {
  Histogram h("h", {1, 2, 3});
  h.recordValue(2);
  h.recordValue(9);
  const auto s = h.snapshot();
  ASSERT_EQ(s.counts.size(), 4u);
  EXPECT_EQ(s.counts[1], 1u);
  EXPECT_EQ(s.counts[3], 1u);
}

TEST(StatsStore, SnapshotsSortedByName) {
  Store store;
  store.counter("b");
  store.counter("a");
  store.counter("c");
  const auto cs = store.counters();
  ASSERT_EQ(cs.size(), 3u);
  EXPECT_EQ(cs[0]->name(), "a");
  EXPECT_EQ(cs[1]->name(), "b");
  EXPECT_EQ(cs[2]->name(), "c");
  store.histogram("h");
  EXPECT_EQ(store.histograms().size(), 1u);
  EXPECT_EQ(store.findHistogram("h"), store.histograms()[0]);
}

// ---- text / json --------------------------------------------------------------------------

void fillSmallStore(Store& store) {
  store.counter("b.c").inc(2);
  store.counter("a.x").inc(1);
  store.gauge("a.y").set(3);
  store.counter("z.unused");
  store.histogram("h1");
  store.histogram("h2").recordValue(7);
}

TEST(StatsRender, TextSortedWithHistograms) {
  Store store;
  fillSmallStore(store);
  auto text = renderText(store);
  ASSERT_TRUE(text.ok()) << text.error();
  EXPECT_EQ(*text, "a.x: 1\n"
                   "a.y: 3\n"
                   "b.c: 2\n"
                   "z.unused: 0\n"
                   "h1: No recorded values\n"
                   "h2: P0(nan,7) P25(nan,7) P50(nan,7) P75(nan,7) P90(nan,7) P95(nan,7) "
                   "P99(nan,7) P99.5(nan,7) P99.9(nan,7) P100(nan,7)\n");
}

TEST(StatsRender, TextFilterAndUsedOnly) {
  Store store;
  fillSmallStore(store);
  auto text = renderText(store, R"(^a\.)");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "a.x: 1\na.y: 3\n");

  text = renderText(store, "", /*used_only=*/true);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->find("z.unused"), std::string::npos);
  EXPECT_EQ(text->find("h1"), std::string::npos);
  EXPECT_NE(text->find("h2: "), std::string::npos);

  text = renderText(store, "x"); // partial match anywhere in the name
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "a.x: 1\n");
}

TEST(StatsRender, InvalidFilterIsAnError) {
  Store store;
  fillSmallStore(store);
  auto text = renderText(store, "(unclosed");
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.error().find("invalid stats filter regex '(unclosed'"), std::string::npos);
  EXPECT_FALSE(renderJson(store, "[").ok());
  EXPECT_FALSE(renderPrometheus(store, "[").ok());
}

TEST(StatsRender, Json) {
  Store store;
  fillSmallStore(store);
  store.counter("q\"uote").inc();
  auto json = renderJson(store, "", true);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*json,
            R"({"stats":[{"name":"a.x","value":1},{"name":"a.y","value":3},)"
            R"({"name":"b.c","value":2},{"name":"q\"uote","value":1},)"
            R"({"histograms":{"supported_quantiles":[0,25,50,75,90,95,99,99.5,99.9,100],)"
            R"("computed_quantiles":[{"name":"h2","values":[)"
            R"({"interval":null,"cumulative":7},{"interval":null,"cumulative":7},)"
            R"({"interval":null,"cumulative":7},{"interval":null,"cumulative":7},)"
            R"({"interval":null,"cumulative":7},{"interval":null,"cumulative":7},)"
            R"({"interval":null,"cumulative":7},{"interval":null,"cumulative":7},)"
            R"({"interval":null,"cumulative":7},{"interval":null,"cumulative":7}]}]}}]})");

  json = renderJson(store, "^b");
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*json, R"({"stats":[{"name":"b.c","value":2}]})");
}

// ---- prometheus ---------------------------------------------------------------------------

TEST(StatsPrometheus, DefaultTagExtractors) {
  Store store;
  store.counter("cluster.backend.upstream_rq_total").inc(5);
  store.counter("cluster.backend.upstream_rq_200").inc(3);
  store.counter("cluster.other.upstream_rq_200").inc(1);
  store.counter("cluster.backend.upstream_rq_2xx").inc(3);
  store.counter("cluster.backend.upstream_rq_503").inc(2);
  store.counter("cluster.backend.upstream_rq_5xx").inc(2);
  store.counter("http.ingress.downstream_rq_2xx").inc(7);
  store.counter("http.ingress.downstream_rq_total").inc(9);
  store.counter("listener.127.0.0.1_10000.downstream_cx_total").inc(2);
  store.counter("listener.0.0.0.0_8080.downstream_cx_total").inc(4);
  store.counter("tcp.mytcp.downstream_cx_total").inc(1);
  store.counter("wasmcustom.my_metric").inc(6);
  store.counter("wasm.envoy.wasm.runtime.null.created").inc(1);
  store.gauge("server.live").set(1);
  store.gauge("cluster.backend.upstream_cx_active").set(2);

  EXPECT_EQ(renderPrometheus(store),
            "# TYPE envoy_cluster_upstream_rq counter\n"
            "envoy_cluster_upstream_rq{envoy_response_code=\"200\",envoy_cluster_name=\"backend\"} 3\n"
            "envoy_cluster_upstream_rq{envoy_response_code=\"503\",envoy_cluster_name=\"backend\"} 2\n"
            "envoy_cluster_upstream_rq{envoy_response_code=\"200\",envoy_cluster_name=\"other\"} 1\n"
            "# TYPE envoy_cluster_upstream_rq_total counter\n"
            "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"backend\"} 5\n"
            "# TYPE envoy_cluster_upstream_rq_xx counter\n"
            "envoy_cluster_upstream_rq_xx{envoy_response_code_class=\"2\",envoy_cluster_name=\"backend\"} 3\n"
            "envoy_cluster_upstream_rq_xx{envoy_response_code_class=\"5\",envoy_cluster_name=\"backend\"} 2\n"
            "# TYPE envoy_http_downstream_rq_total counter\n"
            "envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix=\"ingress\"} 9\n"
            "# TYPE envoy_http_downstream_rq_xx counter\n"
            "envoy_http_downstream_rq_xx{envoy_response_code_class=\"2\",envoy_http_conn_manager_prefix=\"ingress\"} 7\n"
            "# TYPE envoy_listener_downstream_cx_total counter\n"
            "envoy_listener_downstream_cx_total{envoy_listener_address=\"0.0.0.0_8080\"} 4\n"
            "envoy_listener_downstream_cx_total{envoy_listener_address=\"127.0.0.1_10000\"} 2\n"
            "# TYPE envoy_tcp_downstream_cx_total counter\n"
            "envoy_tcp_downstream_cx_total{envoy_tcp_prefix=\"mytcp\"} 1\n"
            "# TYPE envoy_wasm_envoy_wasm_runtime_null_created counter\n"
            "envoy_wasm_envoy_wasm_runtime_null_created{} 1\n"
            "# TYPE envoy_wasmcustom_my_metric counter\n"
            "envoy_wasmcustom_my_metric{} 6\n"
            "# TYPE envoy_cluster_upstream_cx_active gauge\n"
            "envoy_cluster_upstream_cx_active{envoy_cluster_name=\"backend\"} 2\n"
            "# TYPE envoy_server_live gauge\n"
            "envoy_server_live{} 1\n");
}

TEST(StatsPrometheus, ListenerScopedHttpStats) {
  Store store;
  store.counter("listener.0.0.0.0_8080.http.ingress.downstream_rq_2xx").inc(4);
  store.counter("listener.admin.downstream_cx_total").inc(1); // not an address: no tag
  store.counter("listener.[__1]_9000.downstream_cx_total").inc(1);
  const auto ls = lines(renderPrometheus(store));
  EXPECT_EQ(countOf(ls, "envoy_listener_http_downstream_rq_xx{envoy_response_code_class=\"2\","
                        "envoy_http_conn_manager_prefix=\"ingress\","
                        "envoy_listener_address=\"0.0.0.0_8080\"} 4"),
            1u);
  EXPECT_EQ(countOf(ls, "envoy_listener_admin_downstream_cx_total{} 1"), 1u);
  EXPECT_EQ(countOf(ls, "envoy_listener_downstream_cx_total{envoy_listener_address=\"[__1]_9000\"} 1"),
            1u);
}

TEST(StatsPrometheus, TypeLineOncePerFamilyAndGrouped) {
  Store store;
  // Created out of order; the family's series must still come out together.
  store.counter("cluster.b.upstream_cx_total").inc();
  store.counter("cluster.a.upstream_rq_total").inc();
  store.counter("cluster.a.upstream_cx_total").inc();
  store.counter("cluster.c.upstream_cx_total").inc();
  const auto ls = lines(renderPrometheus(store));
  EXPECT_EQ(countOf(ls, "# TYPE envoy_cluster_upstream_cx_total counter"), 1u);
  EXPECT_EQ(countOf(ls, "# TYPE envoy_cluster_upstream_rq_total counter"), 1u);
  ASSERT_EQ(ls.size(), 6u);
  EXPECT_EQ(ls[0], "# TYPE envoy_cluster_upstream_cx_total counter");
  EXPECT_EQ(ls[1], "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"a\"} 1");
  EXPECT_EQ(ls[2], "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"b\"} 1");
  EXPECT_EQ(ls[3], "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"c\"} 1");
  EXPECT_EQ(ls[4], "# TYPE envoy_cluster_upstream_rq_total counter");
}

TEST(StatsPrometheus, Histogram) {
  Store store;
  Histogram& h = store.histogram("cluster.backend.upstream_rq_time");
  h.recordValue(3);
  h.recordValue(7);
  h.recordValue(120);
  store.histogram("server.initialization_time_ms").recordValue(1);
  const auto ls = lines(renderPrometheus(store));
  const std::string fam = "envoy_cluster_upstream_rq_time";
  const std::string lbl = "envoy_cluster_name=\"backend\"";
  std::vector<std::string> expected = {"# TYPE " + fam + " histogram"};
  const std::pair<const char*, int> buckets[] = {
      {"0.5", 0},  {"1", 0},      {"5", 1},      {"10", 2},      {"25", 2},
      {"50", 2},   {"100", 2},    {"250", 3},    {"500", 3},     {"1000", 3},
      {"2500", 3}, {"5000", 3},   {"10000", 3},  {"30000", 3},   {"60000", 3},
      {"300000", 3}, {"600000", 3}, {"1800000", 3}, {"3600000", 3}, {"+Inf", 3}};
  for (const auto& [le, n] : buckets)
    expected.push_back(fam + "_bucket{" + lbl + ",le=\"" + le + "\"} " + std::to_string(n));
  expected.push_back(fam + "_sum{" + lbl + "} 130");
  expected.push_back(fam + "_count{" + lbl + "} 3");
  ASSERT_GE(ls.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(ls[i], expected[i]) << "line " << i;
  // Untagged histogram: bucket labels carry only le, sum/count have empty braces.
  EXPECT_EQ(countOf(ls, "# TYPE envoy_server_initialization_time_ms histogram"), 1u);
  EXPECT_EQ(countOf(ls, "envoy_server_initialization_time_ms_bucket{le=\"1\"} 1"), 1u);
  EXPECT_EQ(countOf(ls, "envoy_server_initialization_time_ms_bucket{le=\"+Inf\"} 1"), 1u);
  EXPECT_EQ(countOf(ls, "envoy_server_initialization_time_ms_sum{} 1"), 1u);
  EXPECT_EQ(countOf(ls, "envoy_server_initialization_time_ms_count{} 1"), 1u);
}

TEST(StatsPrometheus, CustomTagExtractor) {
  Store store;
  store.counter("mesh.alpha.requests").inc(2);
  store.counter("mesh.beta.requests").inc(3);
  ASSERT_TRUE(store.addTagExtractor("mesh_name", R"(^mesh\.(([^.]*)\.))").ok());
  const auto ls = lines(renderPrometheus(store));
  EXPECT_EQ(countOf(ls, "# TYPE envoy_mesh_requests counter"), 1u);
  EXPECT_EQ(countOf(ls, "envoy_mesh_requests{mesh_name=\"alpha\"} 2"), 1u);
  EXPECT_EQ(countOf(ls, "envoy_mesh_requests{mesh_name=\"beta\"} 3"), 1u);

  // One capture group: it is both the value and the removed text.
  store.counter("shard7.hits").inc();
  ASSERT_TRUE(store.addTagExtractor("shard", R"(^(shard\d+)\.)").ok());
  EXPECT_EQ(countOf(lines(renderPrometheus(store)), "envoy__hits{shard=\"shard7\"} 1"), 1u);

  // Custom tags come first and a custom one may carry a default's name, replacing it.
  store.counter("cluster.x.y.upstream_rq_total").inc();
  ASSERT_TRUE(store.addTagExtractor("envoy.cluster_name", R"(^cluster\.((.*)\.)upstream_)").ok());
  EXPECT_EQ(countOf(lines(renderPrometheus(store)),
                    "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"x.y\"} 1"),
            1u);
}

TEST(StatsPrometheus, CustomTagExtractorErrors) {
  Store store;
  Status s = store.addTagExtractor("t", "(unclosed");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("invalid tag extractor regex"), std::string::npos);
  s = store.addTagExtractor("t", "^no_group\\.");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("has no capture group"), std::string::npos);
  EXPECT_FALSE(store.addTagExtractor("", "(x)").ok());
}

TEST(StatsPrometheus, LabelValueEscaping) {
  EXPECT_EQ(escapePrometheusLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  Store store;
  ASSERT_TRUE(store.addTagExtractor("who", R"(^mesh\.(([^.]*)\.))").ok());
  store.counter("mesh.a\"b\\c\nd.hits").inc();
  EXPECT_EQ(countOf(lines(renderPrometheus(store)), "envoy_mesh_hits{who=\"a\\\"b\\\\c\\nd\"} 1"),
            1u);
}

TEST(StatsPrometheus, NameSanitizing) {
  EXPECT_EQ(sanitizePrometheusName("a.b-c:d/e"), "a_b_c_d_e");
  Store store;
  store.counter("server.some-thing:odd").inc();
  EXPECT_EQ(countOf(lines(renderPrometheus(store)), "envoy_server_some_thing_odd{} 1"), 1u);
}

TEST(StatsPrometheus, CustomStatNamespace) {
  Store store;
  store.counter("wasmcustom.my_metric").inc(6);
  store.addCustomStatNamespace("wasmcustom");
  const auto ls = lines(renderPrometheus(store));
  EXPECT_EQ(countOf(ls, "# TYPE my_metric counter"), 1u);
  EXPECT_EQ(countOf(ls, "my_metric{} 6"), 1u);
}

TEST(StatsPrometheus, FilterAndUsedOnly) {
  Store store;
  store.counter("cluster.a.upstream_rq_total").inc();
  store.counter("cluster.a.upstream_cx_total");
  store.gauge("server.live").set(1);
  auto out = renderPrometheus(store, "^cluster", true);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "# TYPE envoy_cluster_upstream_rq_total counter\n"
                  "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"a\"} 1\n");
}

TEST(StatsTagProducer, ProducesTagsInExtractorOrder) {
  TagProducer p;
  std::vector<Tag> tags;
  EXPECT_EQ(p.produceTags("cluster.backend.upstream_rq_200", tags), "cluster.upstream_rq");
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(tags[0], (Tag{"envoy.response_code", "200"}));
  EXPECT_EQ(tags[1], (Tag{"envoy.cluster_name", "backend"}));
  tags.clear();
  EXPECT_EQ(p.produceTags("server.uptime", tags), "server.uptime");
  EXPECT_TRUE(tags.empty());
  EXPECT_EQ(p.produceTags("http.admin.user_agent.ios.downstream_cx_total", tags),
            "http.user_agent.downstream_cx_total");
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(tags[0], (Tag{"envoy.http_user_agent", "ios"}));
  EXPECT_EQ(tags[1], (Tag{"envoy.http_conn_manager_prefix", "admin"}));
}

} // namespace
} // namespace wasmgate::stats
