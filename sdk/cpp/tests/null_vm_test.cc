// Null-VM mode: registration by name, context factories selected by root_id, dispatch of every
// callback kind, the hostcall shims, and the example plugins running against a host double.
#include <algorithm>
#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "null_plugin.h"
#include "proxy_wasm_intrinsics.h"
#include "fake_host.h"
#include "test_events.h"

namespace {

using sdk_test::events;
using sdk_test::FakeHost;
using sdk_test::happened;
using sdk_test::Vm;
using std::string_literals::operator""s;

constexpr uint32_t kRequestHeaders = 0, kResponseHeaders = 2;
constexpr uint32_t kResponseBody = 1, kCallResponseBody = 4;

class NullVmTest : public ::testing::Test {
protected:
  void SetUp() override { events().clear(); }
  FakeHost host;
};

TEST_F(NullVmTest, PluginsAreRegisteredByName) {
  auto names = wasmgate::nullvm::registeredPluginNames();
  for (const char *name : {"sdk_test", "sdk_test_other", "seed_add_header", "add_header",
                           "path_rewrite", "body_redact"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
  const auto *plugin = wasmgate::nullvm::findPlugin("sdk_test");
  ASSERT_NE(plugin, nullptr);
  EXPECT_STREQ(plugin->name, "sdk_test");
  EXPECT_STREQ(plugin->abi_version, "0.2.1");
  EXPECT_EQ(plugin->api_version, wasmgate::nullvm::kNullVmApiVersion);
  EXPECT_EQ(wasmgate::nullvm::findPlugin("no_such_plugin"), nullptr);
}

TEST_F(NullVmTest, CreateInstanceChecksTheHostApiVersion) {
  const auto *plugin = wasmgate::nullvm::findPlugin("sdk_test");
  wasmgate::nullvm::NullVmHostApi old_api = host.api;
  old_api.api_version = 0;
  EXPECT_EQ(plugin->create_instance(plugin, &old_api), nullptr);
  EXPECT_EQ(plugin->create_instance(plugin, nullptr), nullptr);
}

TEST_F(NullVmTest, RootContextIsChosenByPluginRootId) {
  Vm vm("sdk_test", host);
  ASSERT_TRUE(vm.startRoot(1, "root_a", "{\"k\":1}"));
  EXPECT_EQ(events(), (std::vector<std::string>{"A.construct 1 root_a", "A.onCreate 1",
                                                "A.onStart 0", "A.onConfigure 7 {\"k\":1}"}));
  // The SDK asked the host for the root_id exactly like the C++ SDK does (no trailing NUL).
  ASSERT_FALSE(host.property_paths.empty());
  EXPECT_EQ(host.property_paths[0], "plugin_root_id");

  events().clear();
  ASSERT_TRUE(vm.startRoot(2, "root_b", ""));
  EXPECT_EQ(events(), (std::vector<std::string>{"B.onCreate 2"}));
}

TEST_F(NullVmTest, ConfigureResultIsReturned) {
  Vm vm("sdk_test", host);
  EXPECT_FALSE(vm.startRoot(1, "root_a", "reject"));
}

TEST_F(NullVmTest, UnknownRootIdGetsTheDefaultContextAndAWarning) {
  Vm vm("sdk_test", host);
  ASSERT_TRUE(vm.startRoot(1, "typo", ""));
  EXPECT_TRUE(events().empty());
  EXPECT_TRUE(host.logged("no context factory registered for root_id \"typo\""));
  EXPECT_TRUE(host.logged("\"root_a\""));
  // Streams of that root are default contexts: Continue everywhere.
  vm.createStream(2, 1);
  EXPECT_EQ(vm.plugin().proxy_on_request_headers(vm.instance(), 2, 3, 1), 0u);
  vm.endStream(2);
}

TEST_F(NullVmTest, StreamContextsComeFromTheirRootsFactory) {
  Vm vm("sdk_test", host);
  ASSERT_TRUE(vm.startRoot(1, "root_a", ""));
  ASSERT_TRUE(vm.startRoot(2, "root_b", ""));
  events().clear();
  vm.createStream(3, 1);
  vm.createStream(4, 2); // root_b registered no context factory
  EXPECT_EQ(events(), (std::vector<std::string>{"S.onCreate 3"}));
  host.maps[kRequestHeaders] = {{":path", "/"}, {":method", "GET"}};
  EXPECT_EQ(vm.plugin().proxy_on_request_headers(vm.instance(), 4, 2, 1), 0u);
  EXPECT_EQ(events().size(), 1u);
}

TEST_F(NullVmTest, HttpCallbacksAreDispatchedWithTheirArguments) {
  Vm vm("sdk_test", host);
  ASSERT_TRUE(vm.startRoot(1, "root_a", ""));
  vm.createStream(2, 1);
  host.maps[kRequestHeaders] = {{":path", "/"}, {":method", "GET"}};
  const auto &p = vm.plugin();
  void *i = vm.instance();
  EXPECT_EQ(p.proxy_on_request_headers(i, 2, 2, 0), 0u);
  EXPECT_EQ(p.proxy_on_request_body(i, 2, 10, 0), 1u); // StopIterationAndBuffer
  EXPECT_EQ(p.proxy_on_request_body(i, 2, 20, 1), 0u);
  EXPECT_EQ(p.proxy_on_request_trailers(i, 2, 1), 1u);
  EXPECT_EQ(p.proxy_on_response_headers(i, 2, 5, 1), 0u);
  EXPECT_EQ(p.proxy_on_request_metadata(i, 2, 1), 0u);
  EXPECT_TRUE(happened("S.onRequestHeaders 2 0"));
  EXPECT_TRUE(happened("S.onRequestBody 10 0"));
  EXPECT_TRUE(happened("S.onRequestBody 20 1"));
  EXPECT_TRUE(happened("S.onRequestTrailers 1"));
  EXPECT_TRUE(happened("S.onResponseHeaders 5 1"));
  EXPECT_EQ(*host.header(kRequestHeaders, "x-test"), "1");
  // The Counter<std::string> helper encodes the tag in the name.
  bool found = false;
  for (const auto &[id, metric] : host.metrics) {
    if (metric.name == "method.GET.requests") {
      found = true;
      EXPECT_EQ(metric.type, 0u);
      EXPECT_EQ(metric.value, 1u);
    }
  }
  EXPECT_TRUE(found);

  events().clear();
  vm.endStream(2);
  EXPECT_EQ(events(),
            (std::vector<std::string>{"S.onLog 2", "S.onDone 2", "S.onDelete 2", "S.destroyed 2"}));
  // Late callbacks for a deleted context are answered neutrally instead of crashing.
  EXPECT_EQ(p.proxy_on_request_headers(i, 2, 1, 1), 0u);
  EXPECT_EQ(p.proxy_on_done(i, 2), 1u);
  p.proxy_on_delete(i, 2);
  EXPECT_EQ(events().size(), 4u);
}

TEST_F(NullVmTest, TcpCallbacks) {
  Vm vm("sdk_test", host);
  ASSERT_TRUE(vm.startRoot(1, "root_a", ""));
  vm.createStream(2, 1);
  const auto &p = vm.plugin();
  EXPECT_EQ(p.proxy_on_new_connection(vm.instance(), 2), 1u);
  EXPECT_EQ(p.proxy_on_downstream_data(vm.instance(), 2, 42, 1), 0u);
  p.proxy_on_downstream_connection_close(vm.instance(), 2, 2);
  EXPECT_TRUE(happened("S.onNewConnection"));
  EXPECT_TRUE(happened("S.onDownstreamData 42 1"));
  EXPECT_TRUE(happened("S.onDownstreamConnectionClose 2"));
}

TEST_F(NullVmTest, SendLocalResponseSerializesHeadersAndNoGrpcStatus) {
  Vm vm("sdk_test", host);
  ASSERT_TRUE(vm.startRoot(1, "root_a", ""));
  vm.createStream(2, 1);
  host.maps[kRequestHeaders] = {{":path", "/reply"}, {":method", "GET"}};
  EXPECT_EQ(vm.plugin().proxy_on_request_headers(vm.instance(), 2, 2, 1), 1u);
  ASSERT_EQ(host.local_replies.size(), 1u);
  const auto &reply = host.local_replies[0];
  EXPECT_EQ(reply.status, 403u);
  EXPECT_EQ(reply.details, "denied by test");
  EXPECT_EQ(reply.body, "nope");
  EXPECT_EQ(reply.headers, (sdk_test::Pairs{{"x-reason", "test"}}));
  EXPECT_EQ(reply.grpc_status, 0xFFFFFFFFu);
}

TEST_F(NullVmTest, HttpCallResponseRunsTheCallbackOnTheOriginatingStream) {
  Vm vm("sdk_test", host);
  ASSERT_TRUE(vm.startRoot(1, "root_a", ""));
  vm.createStream(2, 1);
  host.maps[kRequestHeaders] = {{":path", "/call"}, {":method", "GET"}};
  EXPECT_EQ(vm.plugin().proxy_on_request_headers(vm.instance(), 2, 2, 1), 4u);
  EXPECT_TRUE(happened("S.httpCall Ok"));
  ASSERT_EQ(host.http_calls.size(), 1u);
  EXPECT_EQ(host.http_calls[0].upstream, "cluster");
  EXPECT_EQ(host.http_calls[0].headers,
            (sdk_test::Pairs{{":method", "GET"}, {":path", "/x"}, {":authority", "a"}}));
  EXPECT_EQ(host.http_calls[0].body, "ping");
  EXPECT_EQ(host.http_calls[0].timeout_ms, 1000u);
  const uint32_t token = host.next_token - 4;

  host.buffers[kCallResponseBody] = "pong!";
  host.effective_contexts.clear();
  vm.plugin().proxy_on_http_call_response(vm.instance(), 1, token, 3, 5, 0);
  EXPECT_TRUE(happened("S.callback 2 3 5 0 pong!"));
  EXPECT_EQ(host.effective_contexts, std::vector<uint32_t>{2});
  EXPECT_EQ(host.continued, std::vector<uint32_t>{0}); // continueRequest()

  // A token delivered twice (or unknown) is ignored.
  events().clear();
  vm.plugin().proxy_on_http_call_response(vm.instance(), 1, token, 3, 5, 0);
  EXPECT_TRUE(events().empty());
}

TEST_F(NullVmTest, HttpCallResponseAfterTheStreamEndedKeepsTheRootEffective) {
  Vm vm("sdk_test", host);
  ASSERT_TRUE(vm.startRoot(1, "root_a", ""));
  vm.createStream(2, 1);
  host.maps[kRequestHeaders] = {{":path", "/call"}, {":method", "GET"}};
  vm.plugin().proxy_on_request_headers(vm.instance(), 2, 2, 1);
  const uint32_t token = host.next_token - 4;
  vm.endStream(2);
  host.effective_contexts.clear();
  host.buffers[kCallResponseBody] = "";
  vm.plugin().proxy_on_http_call_response(vm.instance(), 1, token, 0, 0, 0);
  EXPECT_TRUE(happened("S.callback 2 0 0 0 "));
  EXPECT_TRUE(host.effective_contexts.empty());
}

TEST_F(NullVmTest, PropertiesUseNulTerminatedSegmentsAndFixedSizeValues) {
  Vm vm("sdk_test", host);
  ASSERT_TRUE(vm.startRoot(1, "root_a", ""));
  vm.createStream(2, 1);
  host.maps[kRequestHeaders] = {{":path", "/props"}};
  int64_t size = 1234;
  std::string encoded(8, '\0');
  std::memcpy(encoded.data(), &size, 8); // int64 little-endian (x86/arm64)
  host.properties["request\0size"s] = encoded;
  host.properties["plugin_name"] = "my-plugin";
  host.property_paths.clear();
  vm.plugin().proxy_on_request_headers(vm.instance(), 2, 1, 1);
  EXPECT_TRUE(happened("S.props 1 1234 1 my-plugin 0"));
  ASSERT_EQ(host.property_paths.size(), 3u);
  EXPECT_EQ(host.property_paths[0], "request\0size\0"s);
  EXPECT_EQ(host.property_paths[1], "plugin_name\0"s);
}

TEST_F(NullVmTest, HeaderPairsRoundTripThroughTheHost) {
  Vm vm("sdk_test", host);
  ASSERT_TRUE(vm.startRoot(1, "root_a", ""));
  vm.createStream(2, 1);
  host.maps[kRequestHeaders] = {{":path", "/pairs"}, {"a", "1"}, {"a", "2"}};
  vm.plugin().proxy_on_request_headers(vm.instance(), 2, 3, 1);
  EXPECT_TRUE(happened("S.pairs :path=/pairs;a=1;a=2;x-test=1;"));
  EXPECT_EQ(host.maps[kRequestHeaders], (sdk_test::Pairs{{":path", "/replaced"}, {"k", "v"}}));
}

TEST_F(NullVmTest, SharedDataCompareAndSwap) {
  Vm vm("sdk_test", host);
  ASSERT_TRUE(vm.startRoot(1, "root_a", ""));
  vm.createStream(2, 1);
  host.maps[kRequestHeaders] = {{":path", "/shared"}};
  vm.plugin().proxy_on_request_headers(vm.instance(), 2, 1, 1);
  EXPECT_TRUE(happened("S.shared.get1 NotFound"));
  EXPECT_TRUE(happened("S.shared.get2 Ok v1"));
  EXPECT_TRUE(happened("S.shared.stale CasMismatch"));
  EXPECT_TRUE(happened("S.shared.cas Ok"));
  EXPECT_EQ(host.shared_data["k"].first, "v3");
}

TEST_F(NullVmTest, MissingHostFunctionsReturnUnimplemented) {
  Vm vm("sdk_test", host);
  ASSERT_TRUE(vm.startRoot(1, "root_a", ""));
  vm.createStream(2, 1);
  host.maps[kRequestHeaders] = {{":path", "/unimplemented"}};
  ASSERT_EQ(host.api.proxy_grpc_cancel, nullptr);
  vm.plugin().proxy_on_request_headers(vm.instance(), 2, 1, 1);
  EXPECT_TRUE(happened("S.grpcCancel Unimplemented"));
}

TEST_F(NullVmTest, HostcallsOutsideAHostCallFailCleanly) {
  // No instance is current on this thread now.
  EXPECT_EQ(logInfo("nobody listens"), WasmResult::InternalFailure);
  EXPECT_EQ(getContext(1), nullptr);
  EXPECT_EQ(getRoot("root_a"), nullptr);
}

TEST_F(NullVmTest, RootContextCanFinishAsynchronously) {
  Vm vm("sdk_test", host);
  ASSERT_TRUE(vm.startRoot(1, "root_a", "async-done"));
  EXPECT_EQ(vm.plugin().proxy_on_done(vm.instance(), 1), 0u); // "I will call proxy_done"
  vm.plugin().proxy_on_tick(vm.instance(), 1);
  EXPECT_EQ(host.done_calls, 1);
  vm.plugin().proxy_on_delete(vm.instance(), 1);
  EXPECT_TRUE(happened("A.onDelete 1"));
}

TEST_F(NullVmTest, InstancesAreIsolated) {
  Vm first("sdk_test", host);
  Vm second("sdk_test", host);
  ASSERT_TRUE(first.startRoot(1, "root_a", ""));
  ASSERT_TRUE(second.startRoot(1, "root_a", ""));
  first.createStream(2, 1);
  events().clear();
  host.maps[kRequestHeaders] = {{":path", "/"}};
  // Context 2 exists in the first instance only.
  EXPECT_EQ(second.plugin().proxy_on_request_headers(second.instance(), 2, 1, 1), 0u);
  EXPECT_TRUE(events().empty());
  first.plugin().proxy_on_request_headers(first.instance(), 2, 1, 1);
  EXPECT_EQ(events().size(), 1u);
}

TEST_F(NullVmTest, DestroyingAnInstanceDeletesStreamsBeforeRoots) {
  {
    Vm vm("sdk_test", host);
    ASSERT_TRUE(vm.startRoot(1, "root_a", ""));
    vm.createStream(2, 1);
    events().clear();
  }
  EXPECT_EQ(events(), std::vector<std::string>{"S.destroyed 2"});
}

TEST_F(NullVmTest, EachPluginHasItsOwnFactories) {
  Vm vm("sdk_test_other", host);
  ASSERT_TRUE(vm.startRoot(1, "root_a", ""));
  EXPECT_EQ(events(), std::vector<std::string>{"Other.onCreate 1"});
}

// The wasme-tutorial plugin, written against the older SDK, works unchanged.
TEST_F(NullVmTest, SeedStylePluginWithLegacySignatures) {
  Vm vm("seed_add_header", host);
  ASSERT_TRUE(vm.startRoot(
      1, "add_header_root_id",
      R"({"name": "x-seed", "value": "hello", "rewrites": [{"regex_match": "...", "custom_path": "/anything"}]})"));
  vm.createStream(2, 1);
  host.maps[kRequestHeaders] = {{":path", "/ab"}};
  EXPECT_EQ(vm.plugin().proxy_on_request_headers(vm.instance(), 2, 1, 0), 0u);
  EXPECT_EQ(*host.header(kRequestHeaders, ":path"), "/anything");
  host.maps[kResponseHeaders] = {{":status", "200"}};
  EXPECT_EQ(vm.plugin().proxy_on_response_headers(vm.instance(), 2, 1, 0), 0u);
  EXPECT_EQ(*host.header(kResponseHeaders, "x-seed"), "hello");
  EXPECT_EQ(*host.header(kResponseHeaders, "location"), "envoy-wasm");
  EXPECT_TRUE(host.logged("onConfigure name x-seed"));
  EXPECT_TRUE(host.logged("seed_compat_plugin.cc:")); // LOG_* prefix [file:line]::function()
  vm.endStream(2);
  EXPECT_TRUE(host.logged("onDelete 2"));
}

//
// The example plugins of examples/plugins, compiled natively.
//

TEST_F(NullVmTest, AddHeaderExample) {
  Vm vm("add_header", host);
  ASSERT_TRUE(vm.startRoot(1, "add_header_root_id", R"({"name": "x-hello", "value": "wasmgate"})"));
  EXPECT_TRUE(host.logged("add_header: adding \"x-hello: wasmgate\" to the response headers"));
  EXPECT_EQ(host.logs.back().first, 2u); // info
  vm.createStream(2, 1);
  host.maps[kRequestHeaders] = {{":path", "/"}};
  host.maps[kResponseHeaders] = {{":status", "200"}};
  vm.plugin().proxy_on_request_headers(vm.instance(), 2, 1, 1);
  vm.plugin().proxy_on_response_headers(vm.instance(), 2, 1, 1);
  EXPECT_EQ(host.header(kRequestHeaders, "x-hello"), nullptr);
  ASSERT_NE(host.header(kResponseHeaders, "x-hello"), nullptr);
  EXPECT_EQ(*host.header(kResponseHeaders, "x-hello"), "wasmgate");
}

TEST_F(NullVmTest, AddHeaderExampleToRequestAndDefaultRootId) {
  Vm vm("add_header", host);
  ASSERT_TRUE(vm.startRoot(1, "", R"({"name": "x-hello", "value": "v", "to": "request"})"));
  vm.createStream(2, 1);
  host.maps[kRequestHeaders] = {{":path", "/"}};
  host.maps[kResponseHeaders] = {{":status", "200"}};
  vm.plugin().proxy_on_request_headers(vm.instance(), 2, 1, 1);
  vm.plugin().proxy_on_response_headers(vm.instance(), 2, 1, 1);
  EXPECT_EQ(*host.header(kRequestHeaders, "x-hello"), "v");
  EXPECT_EQ(host.header(kResponseHeaders, "x-hello"), nullptr);
}

TEST_F(NullVmTest, AddHeaderExampleRejectsBadConfiguration) {
  for (const char *config : {"", "not json", "[]", R"({"value": "v"})", R"({"name": "bad name"})",
                             R"({"name": "x", "nmae": "typo"})", R"({"name": "x", "to": "up"})",
                             R"({"name": "x", "value": "a\r\nb"})"}) {
    FakeHost fresh;
    Vm vm("add_header", fresh);
    EXPECT_FALSE(vm.startRoot(1, "add_header_root_id", config)) << config;
  }
}

TEST_F(NullVmTest, PathRewriteExampleSeedFormat) {
  Vm vm("path_rewrite", host);
  ASSERT_TRUE(
      vm.startRoot(1, "path_rewrite_root_id",
                   R"({"rewrites": [ {"regex_match":"...", "custom_path": "/anything"} ]})"));
  vm.createStream(2, 1);
  host.maps[kRequestHeaders] = {{":path", "/ab"}};
  vm.plugin().proxy_on_request_headers(vm.instance(), 2, 1, 1);
  EXPECT_EQ(*host.header(kRequestHeaders, ":path"), "/anything");
  // regex_match is a whole-path match.
  vm.createStream(3, 1);
  host.maps[kRequestHeaders] = {{":path", "/abcd"}};
  vm.plugin().proxy_on_request_headers(vm.instance(), 3, 1, 1);
  EXPECT_EQ(*host.header(kRequestHeaders, ":path"), "/abcd");
}

TEST_F(NullVmTest, PathRewriteExamplePatternFormat) {
  Vm vm("path_rewrite", host);
  const char *config =
      R"json({"rewrites": [{"pattern": "^/api/v1/(.*)", "replacement": "/v2/$1"},
                           {"regex_match": "/old/(\\w+)", "custom_path": "/new/$1"}]})json";
  ASSERT_TRUE(vm.startRoot(1, "path_rewrite_root_id", config));
  const std::pair<const char *, const char *> cases[] = {
      {"/api/v1/users?id=7", "/v2/users?id=7"},
      {"/old/page", "/new/page"},
      {"/other/api/v1/x", "/other/api/v1/x"},
  };
  uint32_t id = 2;
  for (const auto &[in, out] : cases) {
    vm.createStream(id, 1);
    host.maps[kRequestHeaders] = {{":path", in}};
    EXPECT_EQ(vm.plugin().proxy_on_request_headers(vm.instance(), id, 1, 1), 0u);
    EXPECT_EQ(*host.header(kRequestHeaders, ":path"), out) << in;
    vm.endStream(id++);
  }
}

TEST_F(NullVmTest, PathRewriteExampleRejectsBadConfiguration) {
  for (const char *config : {"{}", R"({"rewrites": {}})", R"({"rewrites": [{"pattern": "x"}]})",
                             R"({"rewrites": [{"pattern": "x", "replacement": "relative"}]})"}) {
    FakeHost fresh;
    Vm vm("path_rewrite", fresh);
    EXPECT_FALSE(vm.startRoot(1, "path_rewrite_root_id", config)) << config;
  }
}

struct BodyRedactRun {
  uint32_t headers_result;
  std::vector<uint32_t> body_results;
  std::string body;
};

BodyRedactRun runBodyRedact(FakeHost &host, Vm &vm, uint32_t id, sdk_test::Pairs headers,
                            const std::vector<std::string> &chunks) {
  BodyRedactRun run;
  vm.createStream(id, 1);
  host.maps[kResponseHeaders] = std::move(headers);
  run.headers_result = vm.plugin().proxy_on_response_headers(vm.instance(), id, 3, 0);
  // Like Envoy: while the plugin buffers, each call sees the whole body so far.
  host.buffers[kResponseBody].clear();
  for (size_t i = 0; i < chunks.size(); i++) {
    bool last = i + 1 == chunks.size();
    auto &buffer = host.buffers[kResponseBody];
    if (!run.body_results.empty() && run.body_results.back() == 0)
      buffer.clear(); // the previous chunk was forwarded
    buffer += chunks[i];
    run.body_results.push_back(vm.plugin().proxy_on_response_body(
        vm.instance(), id, static_cast<uint32_t>(buffer.size()), last));
  }
  run.body = host.buffers[kResponseBody];
  vm.endStream(id);
  return run;
}

TEST_F(NullVmTest, BodyRedactExampleDefaultCardPattern) {
  Vm vm("body_redact", host);
  ASSERT_TRUE(vm.startRoot(1, "body_redact_root_id", ""));
  auto run = runBodyRedact(
      host, vm, 2, {{":status", "200"}, {"content-type", "text/plain"}, {"content-length", "52"}},
      {"card 4111 1111 ", "1111 1111 and 5500-0000-0000-0004", " ok"});
  EXPECT_EQ(run.headers_result, 0u);
  EXPECT_EQ(run.body_results, (std::vector<uint32_t>{1, 1, 0}));
  EXPECT_EQ(run.body, "card [REDACTED] and [REDACTED] ok");
  EXPECT_EQ(host.header(kResponseHeaders, "content-length"), nullptr);
  bool counted = false;
  for (const auto &[id, metric] : host.metrics)
    if (metric.name == "body_redact.redactions")
      counted = metric.value == 2;
  EXPECT_TRUE(counted);
}

TEST_F(NullVmTest, BodyRedactExampleLiteralsAndContentTypes) {
  Vm vm("body_redact", host);
  const char *config = R"({"literals": ["s3cret"], "replacement": "***",
                           "content_types": ["application/json"]})";
  ASSERT_TRUE(vm.startRoot(1, "", config));
  auto json = runBodyRedact(host, vm, 2,
                            {{":status", "200"},
                             {"content-type", "Application/JSON; charset=utf-8"},
                             {"content-length", "26"}},
                            {R"({"token":"s3cret","n":"4111111111111111"})"});
  EXPECT_EQ(json.body, R"({"token":"***","n":"4111111111111111"})"); // literals only
  EXPECT_EQ(host.header(kResponseHeaders, "content-length"), nullptr);

  auto html = runBodyRedact(
      host, vm, 3, {{":status", "200"}, {"content-type", "text/html"}, {"content-length", "6"}},
      {"s3cret"});
  EXPECT_EQ(html.body_results, std::vector<uint32_t>{0});
  EXPECT_EQ(html.body, "s3cret");
  EXPECT_NE(host.header(kResponseHeaders, "content-length"), nullptr);

  auto gzip = runBodyRedact(
      host, vm, 4,
      {{":status", "200"}, {"content-type", "application/json"}, {"content-encoding", "gzip"}},
      {"s3cret"});
  EXPECT_EQ(gzip.body, "s3cret");
}

} // namespace
