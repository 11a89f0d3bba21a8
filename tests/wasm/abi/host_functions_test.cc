// Every env.* host function through the probe modules: results, exact serialized layouts,
// Envoy's semantics, bad enum values, and the out-of-bounds matrix (every guest pointer and
// length of every memory-taking function).

#include <gtest/gtest.h>

#include "abi_fixture.h"
#include "wasm/abi/pairs.h"

namespace wasmgate::wasm::abi::testing {
namespace {

using namespace std::string_literals;
using Entries = std::vector<std::pair<std::string, std::string>>;

class HostFunctions : public AbiFixture {
protected:
  void SetUp() override { load("probe_v021"); }

  // Puts a string at kScratch (or `at`) and returns its length.
  uint32_t str(std::string_view s, uint32_t at = kScratch) {
    put(at, s);
    return uint32_t(s.size());
  }
  Entries entries(MapType t) { return stream().maps[size_t(t)].entries(); }
};

// ---------------------------------------------------------------------------------------------
// Logging, time, misc

TEST_F(HostFunctions, ProxyLog) {
  FakeContext& s = stream();
  const uint32_t n = str("hello from the plugin");
  for (uint32_t level = 0; level <= 5; ++level)
    EXPECT_EQ(call(s.contextId(), "t_proxy_log", level, kScratch, n), kOk);
  ASSERT_EQ(s.logs.size(), 6u);
  EXPECT_EQ(s.logs[4].level, 4u);
  EXPECT_EQ(s.logs[4].message, "hello from the plugin");
  EXPECT_EQ(call(s.contextId(), "t_proxy_log", 6, kScratch, n), kBadArgument);
  EXPECT_EQ(call(s.contextId(), "t_proxy_log", 0xffffffff, kScratch, n), kBadArgument);
  EXPECT_EQ(call(s.contextId(), "t_proxy_log", 2, 0, 0), kOk); // (0,0) is an empty message
  EXPECT_EQ(s.logs.size(), 7u);
  EXPECT_EQ(s.logs.back().message, "");
  // On the VM context: the sink.
  EXPECT_EQ(call(0, "t_proxy_log", 3, kScratch, 5), kOk);
  EXPECT_EQ(vm_logs.back().message, "hello");
}

TEST_F(HostFunctions, GetLogLevelClampsOff) {
  FakeContext& s = stream();
  s.log_level = 3;
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_log_level", kOut), kOk);
  EXPECT_EQ(u32(kOut), 3u);
  s.log_level = 6; // "off"
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_log_level", kOut), kOk);
  EXPECT_EQ(u32(kOut), 5u);
}

TEST_F(HostFunctions, CurrentTime) {
  FakeContext& s = stream();
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_current_time_nanoseconds", kOut), kOk);
  EXPECT_EQ(u64(kOut), s.realtime);
  // Writing at address 0 is fine: it is ordinary memory (no null check, as cpp-host).
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_current_time_nanoseconds", 0), kOk);
}

TEST_F(HostFunctions, TickPeriodGoesToTheRoot) {
  FakeContext& s = stream();
  EXPECT_EQ(call(s.contextId(), "t_proxy_set_tick_period_milliseconds", 250), kOk);
  EXPECT_EQ(root().tick_period, 250u);
  EXPECT_EQ(s.tick_calls, 0);
}

TEST_F(HostFunctions, GetStatusFromTheRoot) {
  FakeContext& s = stream();
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_status", kOut, kOutPtr, kOutSize), kOk);
  EXPECT_EQ(u32(kOut), 0u);
  EXPECT_EQ(u32(kOutPtr), 0u); // empty message: (0,0)
  EXPECT_EQ(u32(kOutSize), 0u);
  root().status_code = 11;
  root().status_message = "reset";
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_status", kOut, kOutPtr, kOutSize), kOk);
  EXPECT_EQ(u32(kOut), 11u);
  EXPECT_EQ(pairAt(), "reset");
}

TEST_F(HostFunctions, Done) {
  FakeContext& s = stream();
  EXPECT_EQ(call(s.contextId(), "t_proxy_done"), kNotFound);
  root().done_result = WasmResult::Ok;
  EXPECT_EQ(call(root().contextId(), "t_proxy_done"), kOk);
  EXPECT_EQ(root().done_calls, 1);
  // From a root callback (e.g. a tick), as a plugin finishing its shutdown would.
  setAction(6);
  ASSERT_TRUE(inst().onTick(root().contextId()).ok());
  EXPECT_EQ(u32(kActionResult), kOk);
  EXPECT_EQ(root().done_calls, 2);
}

TEST_F(HostFunctions, ForeignFunctions) {
  FakeContext& s = stream();
  s.foreign["echo"] = "";
  s.foreign["fixed"] = "result!";
  const uint32_t n = str("nope");
  EXPECT_EQ(call(s.contextId(), "t_proxy_call_foreign_function", kScratch, n, 0, 0, kOutPtr,
                 kOutSize),
            kNotFound);
  str("echo");
  str("args", kScratch2);
  EXPECT_EQ(call(s.contextId(), "t_proxy_call_foreign_function", kScratch, 4, kScratch2, 4,
                 kOutPtr, kOutSize),
            kOk);
  EXPECT_EQ(pairAt(), "args");
  // ret_ptr_ptr == 0: the result is discarded (nothing allocated) but its size is reported.
  const uint32_t allocs = call(0, "malloc_calls");
  put(kOutSize, le32(0xeeeeeeee));
  str("fixed");
  EXPECT_EQ(call(s.contextId(), "t_proxy_call_foreign_function", kScratch, 5, 0, 0, 0, kOutSize),
            kOk);
  EXPECT_EQ(call(0, "malloc_calls"), allocs);
  EXPECT_EQ(u32(kOutSize), 7u);
  // ret_size_ptr == 0: the size is not written.
  EXPECT_EQ(call(s.contextId(), "t_proxy_call_foreign_function", kScratch, 5, 0, 0, kOutPtr, 0),
            kOk);
  EXPECT_EQ(get(u32(kOutPtr), 7), "result!");
  // Default HostContext: no functions at all.
  FakeContext& r = root();
  EXPECT_EQ(call(r.contextId(), "t_proxy_call_foreign_function", kScratch, 5, 0, 0, kOutPtr,
                 kOutSize),
            kNotFound);
}

TEST_F(HostFunctions, EmscriptenLeftovers) {
  EXPECT_EQ(call(stream().contextId(), "t_pthread_equal", 7, 7), 1u);
  EXPECT_EQ(call(stream().contextId(), "t_pthread_equal", 7, 8), 0u);
  EXPECT_TRUE(callVoid(stream().contextId(), "t_emscripten_notify_memory_growth", 0).ok());
}

// ---------------------------------------------------------------------------------------------
// Properties

TEST_F(HostFunctions, PluginProperties) {
  FakeContext& s = stream();
  for (auto [path, value] :
       {std::pair{"plugin_name"s, "probe_plugin"}, std::pair{"plugin_root_id"s, "probe_root"},
        std::pair{"plugin_vm_id"s, "probe_vm"},
        std::pair{"plugin_root_id\0"s, "probe_root"}}) { // C++ SDK: trailing NUL
    const uint32_t n = str(path);
    EXPECT_EQ(call(s.contextId(), "t_proxy_get_property", kScratch, n, kOutPtr, kOutSize), kOk)
        << path;
    EXPECT_EQ(pairAt(), value);
  }
  // A string has no fields.
  const uint32_t n = str("plugin_name\0x"s);
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_property", kScratch, n, kOutPtr, kOutSize),
            kNotFound);
  EXPECT_TRUE(s.property_lookups.empty()); // answered by the ABI layer
  // Also on the VM context.
  str("plugin_vm_id");
  EXPECT_EQ(call(0, "t_proxy_get_property", kScratch, 12, kOutPtr, kOutSize), kOk);
  EXPECT_EQ(pairAt(), "probe_vm");
}

TEST_F(HostFunctions, OtherPropertiesAreDelegated) {
  FakeContext& s = stream();
  s.properties["request\0headers\0user-agent"s] = "curl/8";
  s.properties["empty"] = "";
  uint32_t n = str("request\0headers\0user-agent"s);
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_property", kScratch, n, kOutPtr, kOutSize), kOk);
  EXPECT_EQ(pairAt(), "curl/8");
  n = str("request\0headers\0user-agent\0"s); // the C++ SDK form
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_property", kScratch, n, kOutPtr, kOutSize), kOk);
  EXPECT_EQ(pairAt(), "curl/8");
  n = str("empty");
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_property", kScratch, n, kOutPtr, kOutSize), kOk);
  EXPECT_EQ(u32(kOutPtr), 0u);
  EXPECT_EQ(u32(kOutSize), 0u);
  n = str("no\0such"s);
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_property", kScratch, n, kOutPtr, kOutSize),
            kNotFound);
  // Empty path: Envoy cannot serialize the null it resolves to.
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_property", kScratch, 0, kOutPtr, kOutSize),
            kSerializationFailure);

  n = str("my_key");
  const uint32_t v = str("my value", kScratch2);
  EXPECT_EQ(call(s.contextId(), "t_proxy_set_property", kScratch, n, kScratch2, v), kOk);
  EXPECT_EQ(s.properties["my_key"], "my value");
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_property", kScratch, n, kOutPtr, kOutSize), kOk);
  EXPECT_EQ(pairAt(), "my value");
}

// ---------------------------------------------------------------------------------------------
// Header maps

TEST_F(HostFunctions, GetHeaderMapPairsExactLayout) {
  FakeContext& s = stream();
  s.setMap(MapType::HttpRequestHeaders, {{":method", "GET"},
                                         {":path", "/bytes/1"},
                                         {":authority", "httpbin.org"},
                                         {"powered-by", "proxy-wasm"}});
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_header_map_pairs", 0, kOutPtr, kOutSize), kOk);
  const std::string expected =
      "\x04\x00\x00\x00"
      "\x07\x00\x00\x00\x03\x00\x00\x00"
      "\x05\x00\x00\x00\x08\x00\x00\x00"
      "\x0a\x00\x00\x00\x0b\x00\x00\x00"
      "\x0a\x00\x00\x00\x0a\x00\x00\x00"
      ":method\0GET\0:path\0/bytes/1\0:authority\0httpbin.org\0powered-by\0proxy-wasm\0"s;
  EXPECT_EQ(u32(kOutSize), expected.size());
  EXPECT_EQ(pairAt(), expected);

  // Empty and unavailable maps: (0,0) and Ok.
  s.setMap(MapType::HttpResponseHeaders, {});
  for (uint32_t type : {2u, 3u, 7u}) {
    clearOut();
    EXPECT_EQ(call(s.contextId(), "t_proxy_get_header_map_pairs", type, kOutPtr, kOutSize), kOk);
    EXPECT_EQ(u32(kOutPtr), 0u);
    EXPECT_EQ(u32(kOutSize), 0u);
  }
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_header_map_pairs", 8, kOutPtr, kOutSize),
            kBadArgument);
}

TEST_F(HostFunctions, SetHeaderMapPairs) {
  FakeContext& s = stream();
  s.setMap(MapType::HttpRequestHeaders, {{"old", "1"}, {"older", "2"}});
  const std::string data = serializePairs(Pairs{{"X-New", "a"}, {"x-new", "b"}, {"k", ""}});
  put(kScratch, data);
  EXPECT_EQ(call(s.contextId(), "t_proxy_set_header_map_pairs", 0, kScratch, data.size()), kOk);
  EXPECT_EQ(entries(MapType::HttpRequestHeaders), (Entries{{"x-new", "a"}, {"x-new", "b"}, {"k", ""}}));
  EXPECT_EQ(s.modified, std::vector<MapType>{MapType::HttpRequestHeaders});
  // Malformed: the map is cleared and the call succeeds (cpp-host).
  put(kScratch, "\x05\x00\x00\x00garbage"s);
  EXPECT_EQ(call(s.contextId(), "t_proxy_set_header_map_pairs", 0, kScratch, 11), kOk);
  EXPECT_TRUE(entries(MapType::HttpRequestHeaders).empty());
  // Not writable / unavailable / bad type.
  s.setMap(MapType::HttpResponseHeaders, {{"a", "b"}}, /*writable=*/false);
  EXPECT_EQ(call(s.contextId(), "t_proxy_set_header_map_pairs", 2, kScratch, 0), kBadArgument);
  EXPECT_EQ(call(s.contextId(), "t_proxy_set_header_map_pairs", 6, kScratch, 0), kBadArgument);
  EXPECT_EQ(call(s.contextId(), "t_proxy_set_header_map_pairs", 8, kScratch, 0), kBadArgument);
  EXPECT_EQ(entries(MapType::HttpResponseHeaders), (Entries{{"a", "b"}}));
}

TEST_F(HostFunctions, GetHeaderMapValue) {
  FakeContext& s = stream();
  s.setMap(MapType::HttpRequestHeaders, {{"x-dup", "first"}, {"x-dup", "second"}, {"x-empty", ""}});
  uint32_t n = str("X-Dup"); // lookups are lower-cased
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_header_map_value", 0, kScratch, n, kOutPtr, kOutSize),
            kOk);
  EXPECT_EQ(pairAt(), "first"); // first value only
  n = str("x-empty");
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_header_map_value", 0, kScratch, n, kOutPtr, kOutSize),
            kOk);
  EXPECT_EQ(u32(kOutSize), 0u);
  n = str("absent");
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_header_map_value", 0, kScratch, n, kOutPtr, kOutSize),
            kNotFound);
  // Unavailable map outside the log phase: BadArgument (Envoy).
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_header_map_value", 2, kScratch, n, kOutPtr, kOutSize),
            kBadArgument);
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_header_map_value", 8, kScratch, n, kOutPtr, kOutSize),
            kBadArgument);
}

TEST_F(HostFunctions, GetHeaderMapValueInTheLogPhase) {
  FakeContext& s = stream();
  s.setMap(MapType::HttpResponseHeaders, {{"server", "x"}}, /*writable=*/false);
  const uint32_t n = str("missing-map-key");
  // In on_log an unavailable map is NotFound, not BadArgument.
  setAction(4, uint32_t(MapType::HttpResponseTrailers), n);
  ASSERT_TRUE(inst().onLog(s.contextId()).ok());
  EXPECT_EQ(u32(kActionResult), kNotFound);
  // ...and a read-only map is readable.
  const uint32_t m = str("server");
  setAction(4, uint32_t(MapType::HttpResponseHeaders), m);
  ASSERT_TRUE(inst().onLog(s.contextId()).ok());
  EXPECT_EQ(u32(kActionResult), kOk);
  EXPECT_EQ(get(u32(0x9e0), u32(0x9e4)), "x");
  // Outside on_log the same call is BadArgument.
  setAction(4, uint32_t(MapType::HttpResponseTrailers), n);
  ASSERT_TRUE(inst().onResponseBody(s.contextId(), 0, true).ok());
  EXPECT_EQ(u32(kActionResult), kBadArgument);
}

TEST_F(HostFunctions, AddReplaceRemove) {
  FakeContext& s = stream();
  s.setMap(MapType::HttpRequestHeaders, {{"a", "1"}, {"b", "2"}, {"a", "3"}});
  uint32_t k = str("A");
  uint32_t v = str("4", kScratch2);
  EXPECT_EQ(call(s.contextId(), "t_proxy_add_header_map_value", 0, kScratch, k, kScratch2, v), kOk);
  EXPECT_EQ(entries(MapType::HttpRequestHeaders),
            (Entries{{"a", "1"}, {"b", "2"}, {"a", "3"}, {"a", "4"}}));
  v = str("only", kScratch2);
  EXPECT_EQ(call(s.contextId(), "t_proxy_replace_header_map_value", 0, kScratch, k, kScratch2, v),
            kOk);
  EXPECT_EQ(entries(MapType::HttpRequestHeaders), (Entries{{"a", "only"}, {"b", "2"}}));
  k = str("New");
  EXPECT_EQ(call(s.contextId(), "t_proxy_replace_header_map_value", 0, kScratch, k, kScratch2, v),
            kOk); // replace adds when absent
  EXPECT_EQ(entries(MapType::HttpRequestHeaders),
            (Entries{{"a", "only"}, {"b", "2"}, {"new", "only"}}));
  k = str("B");
  EXPECT_EQ(call(s.contextId(), "t_proxy_remove_header_map_value", 0, kScratch, k), kOk);
  EXPECT_EQ(call(s.contextId(), "t_proxy_remove_header_map_value", 0, kScratch, k), kOk); // absent
  EXPECT_EQ(entries(MapType::HttpRequestHeaders), (Entries{{"a", "only"}, {"new", "only"}}));
  EXPECT_EQ(s.modified.size(), 4u); // add, replace, replace, remove (not the no-op remove)

  // Read-only and unavailable maps; bad types.
  s.setMap(MapType::HttpResponseHeaders, {{"a", "1"}}, /*writable=*/false);
  for (const char* fn : {"t_proxy_add_header_map_value", "t_proxy_replace_header_map_value"}) {
    EXPECT_EQ(call(s.contextId(), fn, 2, kScratch, k, kScratch2, v), kBadArgument) << fn;
    EXPECT_EQ(call(s.contextId(), fn, 6, kScratch, k, kScratch2, v), kBadArgument) << fn;
    EXPECT_EQ(call(s.contextId(), fn, 8, kScratch, k, kScratch2, v), kBadArgument) << fn;
  }
  EXPECT_EQ(call(s.contextId(), "t_proxy_remove_header_map_value", 2, kScratch, k), kBadArgument);
  EXPECT_EQ(call(s.contextId(), "t_proxy_remove_header_map_value", 9, kScratch, k), kBadArgument);
  EXPECT_EQ(entries(MapType::HttpResponseHeaders), (Entries{{"a", "1"}}));
}

TEST_F(HostFunctions, TrailersCanBeCreatedFromTheLastBodyCallback) {
  FakeContext& s = stream();
  const uint32_t k = str("grpc-status");
  const uint32_t v = str("0", kScratch2);
  EXPECT_EQ(call(s.contextId(), "t_proxy_add_header_map_value", 1, kScratch, k, kScratch2, v),
            kBadArgument);
  s.can_create_trailers = true; // the embedder says "now possible"
  EXPECT_EQ(call(s.contextId(), "t_proxy_add_header_map_value", 1, kScratch, k, kScratch2, v), kOk);
  EXPECT_EQ(entries(MapType::HttpRequestTrailers), (Entries{{"grpc-status", "0"}}));
}

TEST_F(HostFunctions, HeaderMapSizeIsByteSize) {
  FakeContext& s = stream();
  s.setMap(MapType::HttpRequestHeaders, {{":path", "/abc"}, {"x", "yz"}});
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_header_map_size", 0, kOut), kOk);
  EXPECT_EQ(u32(kOut), 5u + 4 + 1 + 2);
  // Read-only HTTP maps (log phase) and unavailable ones: BadArgument.
  s.setMap(MapType::HttpResponseHeaders, {{"a", "b"}}, false);
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_header_map_size", 2, kOut), kBadArgument);
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_header_map_size", 3, kOut), kBadArgument);
  // Call-response headers are never writable but have a size.
  s.setMap(MapType::HttpCallResponseHeaders, {{":status", "200"}}, false);
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_header_map_size", 6, kOut), kOk);
  EXPECT_EQ(u32(kOut), 10u);
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_header_map_size", 8, kOut), kBadArgument);
}

// ---------------------------------------------------------------------------------------------
// Buffers

TEST_F(HostFunctions, GetBufferBytes) {
  FakeContext& s = stream();
  s.setBuffer(BufferType::HttpRequestBody, "hello world");
  auto get_bytes = [&](uint32_t start, uint32_t max) {
    clearOut();
    EXPECT_EQ(call(s.contextId(), "t_proxy_get_buffer_bytes", 0, start, max, kOutPtr, kOutSize),
              kOk);
    return u32(kOutSize) == 0 ? std::string() : pairAt();
  };
  EXPECT_EQ(get_bytes(0, 5), "hello");
  EXPECT_EQ(get_bytes(6, 0xffffffff), "world"); // Rust's usize::MAX
  EXPECT_EQ(get_bytes(0, 0x7fffffff), "hello world");
  EXPECT_EQ(get_bytes(0xffffffff, 0xffffffff), ""); // 64-bit arithmetic: no overflow
  const uint32_t allocs = call(0, "malloc_calls");
  EXPECT_EQ(get_bytes(11, 10), "");
  EXPECT_EQ(get_bytes(100, 1), "");
  EXPECT_EQ(get_bytes(0, 0), "");
  EXPECT_EQ(u32(kOutPtr), 0u); // (0,0) without allocating
  EXPECT_EQ(call(0, "malloc_calls"), allocs);

  EXPECT_EQ(call(s.contextId(), "t_proxy_get_buffer_bytes", 9, 0, 1, kOutPtr, kOutSize),
            kBadArgument);
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_buffer_bytes", 1, 0, 1, kOutPtr, kOutSize),
            kNotFound);
  // Read-only bytes from the context (call-response body).
  s.read_only[size_t(BufferType::HttpCallResponseBody)] = "response";
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_buffer_bytes", 4, 2, 100, kOutPtr, kOutSize), kOk);
  EXPECT_EQ(pairAt(), "sponse");
}

TEST_F(HostFunctions, ConfigurationBuffers) {
  FakeContext& s = stream();
  // VM configuration: any time, any context.
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_buffer_bytes", 6, 0, 100, kOutPtr, kOutSize), kOk);
  EXPECT_EQ(pairAt(), "vm-config-bytes");
  EXPECT_EQ(call(0, "t_proxy_get_buffer_status", 6, kOut, kOut + 4), kOk);
  EXPECT_EQ(u32(kOut), 15u);
  // Plugin configuration: only inside on_configure (the probe's on_configure checks Ok).
  EXPECT_EQ(call(root().contextId(), "t_proxy_get_buffer_bytes", 7, 0, 100, kOutPtr, kOutSize),
            kNotFound);
  ASSERT_TRUE(inst().onConfigure(root().contextId(), 15).ok());
  EXPECT_EQ(u32(0x9f8), kOk);
  // Read-only.
  const uint32_t n = str("x");
  EXPECT_EQ(call(s.contextId(), "t_proxy_set_buffer_bytes", 6, 0, 0, kScratch, n), kBadArgument);
}

TEST_F(HostFunctions, SetBufferBytesFollowsEnvoy) {
  FakeContext& s = stream();
  Buffer& body = s.buffers[0];
  s.setBuffer(BufferType::HttpRequestBody, "body");
  auto set = [&](uint32_t start, uint32_t size, std::string_view data) {
    put(kScratch, data);
    return call(s.contextId(), "t_proxy_set_buffer_bytes", 0, start, size, kScratch, data.size());
  };
  EXPECT_EQ(set(0, 0, ">"), kOk); // prepend
  EXPECT_EQ(body.view(), ">body");
  EXPECT_EQ(set(5, 0, "<"), kOk); // start == len: append
  EXPECT_EQ(body.view(), ">body<");
  EXPECT_EQ(set(0x7fffffff, 0, "!"), kOk); // Go's append
  EXPECT_EQ(body.view(), ">body<!");
  EXPECT_EQ(set(0, 1, "["), kOk); // drain 1 then prepend: replace a prefix
  EXPECT_EQ(body.view(), "[body<!");
  EXPECT_EQ(set(0, 0x7fffffff, "new"), kOk); // Go's replace
  EXPECT_EQ(body.view(), "new");
  EXPECT_EQ(set(0, 3, ""), kOk); // drain everything
  EXPECT_EQ(body.view(), "");
  s.setBuffer(BufferType::HttpRequestBody, "abcdef");
  EXPECT_EQ(set(3, 1, "X"), kBadArgument); // mid-buffer edits are not supported by Envoy
  EXPECT_EQ(body.view(), "abcdef");
  EXPECT_EQ(call(s.contextId(), "t_proxy_set_buffer_bytes", 1, 0, 0, kScratch, 1), kNotFound);
  EXPECT_EQ(call(s.contextId(), "t_proxy_set_buffer_bytes", 9, 0, 0, kScratch, 1), kBadArgument);
  s.read_only[size_t(BufferType::HttpCallResponseBody)] = "ro";
  EXPECT_EQ(call(s.contextId(), "t_proxy_set_buffer_bytes", 4, 0, 0, kScratch, 1), kBadArgument);
}

TEST_F(HostFunctions, BufferStatus) {
  FakeContext& s = stream();
  s.setBuffer(BufferType::HttpResponseBody, "12345678");
  put(kOut, std::string(8, '\xff'));
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_buffer_status", 1, kOut, kOut + 4), kOk);
  EXPECT_EQ(u32(kOut), 8u);
  EXPECT_EQ(u32(kOut + 4), 0u); // flags: never EndOfStream
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_buffer_status", 0, kOut, kOut + 4), kNotFound);
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_buffer_status", 9, kOut, kOut + 4), kBadArgument);
}

// ---------------------------------------------------------------------------------------------
// Stream control and local replies

TEST_F(HostFunctions, ContinueAndCloseStream) {
  FakeContext& s = stream();
  for (uint32_t t : {0u, 1u, 2u})
    EXPECT_EQ(call(s.contextId(), "t_proxy_continue_stream", t), kOk);
  EXPECT_EQ(s.continued,
            (std::vector<StreamType>{StreamType::Request, StreamType::Response, StreamType::Downstream}));
  EXPECT_EQ(call(s.contextId(), "t_proxy_continue_stream", 3), kUnimplemented); // Envoy
  EXPECT_EQ(call(s.contextId(), "t_proxy_continue_stream", 4), kBadArgument);
  EXPECT_EQ(s.continued.size(), 3u);
  for (uint32_t t : {0u, 1u, 2u, 3u})
    EXPECT_EQ(call(s.contextId(), "t_proxy_close_stream", t), kOk);
  EXPECT_EQ(s.closed.size(), 4u);
  EXPECT_EQ(call(s.contextId(), "t_proxy_close_stream", 4), kBadArgument);
  EXPECT_EQ(call(s.contextId(), "t_proxy_close_stream", 0xffffffff), kBadArgument);
  // From a callback.
  setAction(3);
  ASSERT_TRUE(inst().onRequestHeaders(s.contextId(), 1, false).ok());
  EXPECT_EQ(u32(kActionResult), kOk);
  EXPECT_EQ(s.continued.size(), 4u);
}

TEST_F(HostFunctions, SendLocalResponse) {
  FakeContext& s = stream();
  const uint32_t d = str("rate limited\there", kScratch);
  const uint32_t b = str("slow down", kScratch2);
  const std::string headers = serializePairs(Pairs{{"Retry-After", "10"}, {"X-A", "1"}});
  put(0x2800, headers);
  EXPECT_EQ(call(s.contextId(), "t_proxy_send_local_response", 429, kScratch, d, kScratch2, b,
                 0x2800, headers.size(), 8),
            kOk);
  ASSERT_EQ(s.local_replies.size(), 1u);
  const auto& r = s.local_replies[0];
  EXPECT_EQ(r.status, 429u);
  EXPECT_EQ(r.details, "rate_limited_here");
  EXPECT_EQ(r.body, "slow down");
  EXPECT_EQ(r.headers, (Entries{{"retry-after", "10"}, {"x-a", "1"}}));
  EXPECT_EQ(r.grpc_status, 8);
  // Out-of-range gRPC status means "none"; empty everything is fine.
  EXPECT_EQ(call(s.contextId(), "t_proxy_send_local_response", 200, 0, 0, 0, 0, 0, 0, 17), kOk);
  EXPECT_EQ(s.local_replies[1].grpc_status, -1);
  EXPECT_EQ(s.local_replies[1].body, "");
  EXPECT_TRUE(s.local_replies[1].headers.empty());
  EXPECT_EQ(call(s.contextId(), "t_proxy_send_local_response", 200, 0, 0, 0, 0, 0, 0, 0xffffffff),
            kOk);
  EXPECT_EQ(s.local_replies[2].grpc_status, -1);
}

// ---------------------------------------------------------------------------------------------
// Services (later issues): defaults and plumbing

TEST_F(HostFunctions, ServicesDefaultToUnimplemented) {
  FakeContext& s = stream();
  const uint32_t n = str("key");
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_shared_data", kScratch, n, kOutPtr, kOutSize, kOut),
            kUnimplemented);
  EXPECT_EQ(call(s.contextId(), "t_proxy_set_shared_data", kScratch, n, kScratch, n, 0),
            kUnimplemented);
  EXPECT_EQ(call(s.contextId(), "t_proxy_register_shared_queue", kScratch, n, kOut), kUnimplemented);
  EXPECT_EQ(call(s.contextId(), "t_proxy_resolve_shared_queue", 0, 0, kScratch, n, kOut),
            kUnimplemented);
  EXPECT_EQ(call(s.contextId(), "t_proxy_enqueue_shared_queue", 1, kScratch, n), kUnimplemented);
  EXPECT_EQ(call(s.contextId(), "t_proxy_dequeue_shared_queue", 1, kOutPtr, kOutSize),
            kUnimplemented);
  EXPECT_EQ(call(s.contextId(), "t_proxy_define_metric", 0, kScratch, n, kOut), kUnimplemented);
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_metric", 4, kOut), kUnimplemented);
  auto inc = inst().callExport<uint32_t>(s.contextId(), "t_proxy_increment_metric", 4u, int64_t(1));
  EXPECT_EQ(*inc, kUnimplemented);
  auto rec = inst().callExport<uint32_t>(s.contextId(), "t_proxy_record_metric", 4u, uint64_t(1));
  EXPECT_EQ(*rec, kUnimplemented);
  EXPECT_EQ(callv(s.contextId(), "t_proxy_http_call", {kScratch, n, 0, 0, 0, 0, 0, 0, 1000, kOut}),
            kUnimplemented);
  EXPECT_EQ(callv(s.contextId(), "t_proxy_grpc_call",
                  {kScratch, n, kScratch, n, kScratch, n, 0, 0, 0, 0, 1000, kOut}),
            kUnimplemented);
  EXPECT_EQ(callv(s.contextId(), "t_proxy_grpc_stream",
                  {kScratch, n, kScratch, n, kScratch, n, 0, 0, kOut}),
            kUnimplemented);
  EXPECT_EQ(call(s.contextId(), "t_proxy_grpc_send", 5, kScratch, n, 1), kUnimplemented);
  EXPECT_EQ(call(s.contextId(), "t_proxy_grpc_cancel", 5), kUnimplemented);
  EXPECT_EQ(call(s.contextId(), "t_proxy_grpc_close", 5), kUnimplemented);
  EXPECT_EQ(call(s.contextId(), "t_envoy_resolve_dns", kScratch, n, kOut), kUnimplemented);
}

TEST_F(HostFunctions, SharedDataPlumbing) {
  FakeContext& s = stream();
  s.services = true;
  const uint32_t k = str("counter");
  uint32_t v = str("1", kScratch2);
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_shared_data", kScratch, k, kOutPtr, kOutSize, kOut),
            kNotFound);
  EXPECT_EQ(call(s.contextId(), "t_proxy_set_shared_data", kScratch, k, kScratch2, v, 0), kOk);
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_shared_data", kScratch, k, kOutPtr, kOutSize, kOut),
            kOk);
  EXPECT_EQ(pairAt(), "1");
  const uint32_t cas = u32(kOut);
  EXPECT_EQ(cas, 1u);
  v = str("2", kScratch2);
  EXPECT_EQ(call(s.contextId(), "t_proxy_set_shared_data", kScratch, k, kScratch2, v, cas + 5),
            kCasMismatch);
  EXPECT_EQ(call(s.contextId(), "t_proxy_set_shared_data", kScratch, k, kScratch2, v, cas), kOk);
  // Rust's remove_shared_data: set to (0,0).
  EXPECT_EQ(call(s.contextId(), "t_proxy_set_shared_data", kScratch, k, 0, 0, 0), kOk);
  EXPECT_EQ(call(s.contextId(), "t_proxy_get_shared_data", kScratch, k, kOutPtr, kOutSize, kOut),
            kOk);
  EXPECT_EQ(u32(kOutPtr), 0u);
  EXPECT_EQ(u32(kOutSize), 0u);
}

TEST_F(HostFunctions, MetricsPlumbing) {
  FakeContext& s = stream();
  s.services = true;
  const uint32_t n = str("requests_total");
  EXPECT_EQ(call(s.contextId(), "t_proxy_define_metric", 0, kScratch, n, kOut), kOk);
  EXPECT_EQ(u32(kOut), 4u);
  EXPECT_EQ(s.metric_names, std::vector<std::string>{"requests_total"});
  EXPECT_EQ(call(s.contextId(), "t_proxy_define_metric", 3, kScratch, n, kOut), kBadArgument);
  auto inc = inst().callExport<uint32_t>(s.contextId(), "t_proxy_increment_metric", 4u,
                                         int64_t(-5));
  EXPECT_EQ(*inc, kOk);
  EXPECT_EQ(s.increments, std::vector<int64_t>{-5}); // the i64 arrives signed and whole
}

TEST_F(HostFunctions, HttpCallPlumbing) {
  FakeContext& s = stream();
  root().services = true; // callouts belong to the root context
  const uint32_t c = str("cluster_a");
  const std::string headers =
      serializePairs(Pairs{{":method", "GET"}, {":path", "/"}, {":Authority", "svc"}});
  put(kScratch2, headers);
  put(0x2800, "payload");
  const std::string trailers = serializePairs(Pairs{{"T", "v"}});
  put(0x2900, trailers);
  EXPECT_EQ(callv(s.contextId(), "t_proxy_http_call",
                  {kScratch, c, kScratch2, uint32_t(headers.size()), 0x2800, 7, 0x2900,
                   uint32_t(trailers.size()), 5000, kOut}),
            kOk);
  ASSERT_EQ(root().http_calls.size(), 1u);
  const auto& call0 = root().http_calls[0];
  EXPECT_EQ(call0.cluster, "cluster_a");
  EXPECT_EQ(call0.headers, (Entries{{":method", "GET"}, {":path", "/"}, {":authority", "svc"}}));
  EXPECT_EQ(call0.body, "payload");
  EXPECT_EQ(call0.trailers, (Entries{{"t", "v"}}));
  EXPECT_EQ(call0.timeout_ms, 5000u);
  EXPECT_EQ(u32(kOut), 4u);
  // A negative timeout is refused.
  EXPECT_EQ(callv(s.contextId(), "t_proxy_http_call",
                  {kScratch, c, kScratch2, uint32_t(headers.size()), 0, 0, 0, 0, 0x80000000, kOut}),
            kBadArgument);
  EXPECT_EQ(root().http_calls.size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// ABI 0.1.0 and 0.2.0 specifics

TEST_F(HostFunctions, V010Functions) {
  load("probe_v010");
  FakeContext& r = newRoot();
  // Outside on_configure: the VM configuration.
  EXPECT_EQ(call(r.contextId(), "t_proxy_get_configuration", kOutPtr, kOutSize), kOk);
  EXPECT_EQ(pairAt(), "vm-config-bytes");
  // Inside: the plugin configuration (the module logs what it got).
  ASSERT_TRUE(inst().onConfigure(r.contextId(), 15).ok());
  EXPECT_EQ(r.messages(), std::vector<std::string>{"{\"plugin\":true}"});

  EXPECT_EQ(call(r.contextId(), "t_proxy_continue_request"), kOk);
  EXPECT_EQ(call(r.contextId(), "t_proxy_continue_response"), kOk);
  EXPECT_EQ(r.continued, (std::vector<StreamType>{StreamType::Request, StreamType::Response}));
  EXPECT_EQ(call(r.contextId(), "t_proxy_clear_route_cache"), kOk);
  EXPECT_EQ(r.clear_route_cache_calls, 1);

  // 0.1.0: a missing header is an empty Ok, not NotFound.
  r.setMap(MapType::HttpRequestHeaders, {{"a", "b"}});
  put(kScratch, "zz");
  clearOut();
  EXPECT_EQ(call(r.contextId(), "t_proxy_get_header_map_value", 0, kScratch, 2, kOutPtr, kOutSize),
            kOk);
  EXPECT_EQ(u32(kOutPtr), 0u);
  EXPECT_EQ(u32(kOutSize), 0u);
  EXPECT_EQ(call(r.contextId(), "t_proxy_get_header_map_value", 2, kScratch, 2, kOutPtr, kOutSize),
            kBadArgument);
}

TEST_F(HostFunctions, V020StreamControl) {
  load("probe_v020");
  FakeContext& r = newRoot();
  EXPECT_EQ(call(r.contextId(), "t_proxy_continue_stream", 1), kOk);
  EXPECT_EQ(call(r.contextId(), "t_proxy_close_stream", 0), kOk);
  EXPECT_EQ(r.continued, std::vector<StreamType>{StreamType::Response});
  EXPECT_EQ(r.closed, std::vector<StreamType>{StreamType::Request});
}

// ---------------------------------------------------------------------------------------------
// Out-of-bounds matrix: every guest (ptr, len) and out-pointer of every memory-taking function.

struct MemCase {
  const char* fn;
  std::vector<uint32_t> args; // a call that would succeed
  std::vector<size_t> inputs; // index of each (ptr, len) pair's ptr
  std::vector<size_t> outputs; // index of each out-pointer
};

constexpr uint32_t S = kScratch, S2 = kScratch2, OP = kOutPtr, OS = kOutSize, O = kOut;

const std::vector<MemCase> kMemCases = {
    {"t_proxy_log", {2, S, 3}, {1}, {}},
    {"t_proxy_get_log_level", {O}, {}, {0}},
    {"t_proxy_get_current_time_nanoseconds", {O}, {}, {0}},
    {"t_proxy_get_status", {O, OP, OS}, {}, {0, 1, 2}},
    {"t_proxy_call_foreign_function", {S, 4, S2, 3, OP, OS}, {0, 2}, {4, 5}},
    {"t_proxy_get_buffer_bytes", {0, 0, 100, OP, OS}, {}, {3, 4}},
    {"t_proxy_set_buffer_bytes", {0, 0, 0, S, 3}, {3}, {}},
    {"t_proxy_get_buffer_status", {0, O, O + 4}, {}, {1, 2}},
    {"t_proxy_get_header_map_pairs", {0, OP, OS}, {}, {1, 2}},
    {"t_proxy_set_header_map_pairs", {0, 0x2c00, 12}, {1}, {}},
    {"t_proxy_get_header_map_value", {0, 0x2b00, 5, OP, OS}, {1}, {3, 4}},
    {"t_proxy_add_header_map_value", {0, S, 1, S2, 1}, {1, 3}, {}},
    {"t_proxy_replace_header_map_value", {0, S, 1, S2, 1}, {1, 3}, {}},
    {"t_proxy_remove_header_map_value", {0, S, 1}, {1}, {}},
    {"t_proxy_get_header_map_size", {0, O}, {}, {1}},
    {"t_proxy_send_local_response", {403, S, 3, S2, 3, 0, 0, 0xffffffff}, {1, 3, 5}, {}},
    {"t_proxy_get_property", {0x2a00, 1, OP, OS}, {0}, {2, 3}},
    {"t_proxy_set_property", {S, 1, S2, 1}, {0, 2}, {}},
    {"t_proxy_get_shared_data", {0x2a00, 1, OP, OS, O}, {0}, {2, 3, 4}},
    {"t_proxy_set_shared_data", {S, 1, S2, 1, 0}, {0, 2}, {}},
    {"t_proxy_register_shared_queue", {S, 1, O}, {0}, {2}},
    {"t_proxy_resolve_shared_queue", {S, 1, S2, 1, O}, {0, 2}, {4}},
    {"t_proxy_enqueue_shared_queue", {1, S, 1}, {1}, {}},
    {"t_proxy_define_metric", {0, S, 1, O}, {1}, {3}},
    {"t_proxy_get_metric", {4, O}, {}, {1}},
    {"t_proxy_http_call", {S, 1, 0x2c00, 12, S2, 1, 0x2c00, 12, 100, O}, {0, 2, 4, 6}, {9}},
    {"t_proxy_grpc_call", {S, 1, S, 1, S, 1, 0x2c00, 12, S2, 1, 100, O}, {0, 2, 4, 6, 8}, {11}},
    {"t_proxy_grpc_stream", {S, 1, S, 1, S, 1, 0x2c00, 12, O}, {0, 2, 4, 6}, {8}},
    {"t_proxy_grpc_send", {1, S, 1, 0}, {1}, {}},
    {"t_envoy_resolve_dns", {S, 1, O}, {0}, {2}},
};

const std::vector<std::pair<uint32_t, uint32_t>> kBadRanges = {
    {kMemSize, 1},         // starts at the end
    {kMemSize + 1, 0},     // past the end, even empty
    {kMemSize + 100, 4},   // past the end
    {kMemSize - 2, 4},     // straddles the end
    {S, 0xffffffff},       // length overflow
    {0xfffffff0, 0x20},    // ptr + len wraps around 2^32
    {0xffffffff, 1},       // the last address
};

const std::vector<uint32_t> kBadOutPointers = {kMemSize - 2, kMemSize, 0xfffffffe, 0xffffffff};

class OutOfBounds : public HostFunctions {
protected:
  void SetUp() override {
    HostFunctions::SetUp();
    FakeContext& s = stream();
    root().services = true;
    s.services = true;
    s.foreign["echo"] = "";
    s.properties["p"] = "value";
    s.shared["p"] = {"shared", 1};
    s.setMap(MapType::HttpRequestHeaders, {{":path", "/x"}});
    s.setBuffer(BufferType::HttpRequestBody, "body bytes");
    root().status_message = "reset";
    str("echo");
    str("abc", kScratch2);
    put(0x2a00, "p");
    put(0x2b00, ":path");
    put(0x2c00, serializePairs(Pairs{{"a", "b"}}));
  }

  // What the host holds, to check a failed call left it alone.
  std::string hostState() {
    FakeContext& s = stream();
    std::string out = std::to_string(s.logs.size()) + "|" + std::to_string(s.local_replies.size()) +
                      "|" + std::to_string(s.properties.size()) + "|" +
                      std::to_string(s.shared.size()) + "|" + std::to_string(s.metric_names.size()) +
                      "|" + std::to_string(root().http_calls.size()) + "|" +
                      std::string(s.buffers[0].view()) + "|";
    for (const auto& [k, v] : s.maps[0].entries())
      out += k + "=" + v + ";";
    out += "|" + std::to_string(call(0, "heap_top"));
    return out;
  }
};

TEST_F(OutOfBounds, EveryMemoryArgumentOfEveryProxyFunction) {
  const uint32_t ctx = stream().contextId();
  size_t checked = 0;
  for (const MemCase& mc : kMemCases) {
    for (size_t in : mc.inputs) {
      for (auto [ptr, len] : kBadRanges) {
        const std::string before = hostState();
        std::vector<uint32_t> args = mc.args;
        args[in] = ptr;
        args[in + 1] = len;
        EXPECT_EQ(callv(ctx, mc.fn, args), kInvalidMemoryAccess)
            << mc.fn << " arg " << in << " = (" << ptr << ", " << len << ")";
        EXPECT_EQ(hostState(), before) << mc.fn;
        ++checked;
      }
    }
    for (size_t out : mc.outputs) {
      for (uint32_t ptr : kBadOutPointers) {
        const std::string before = hostState();
        std::vector<uint32_t> args = mc.args;
        args[out] = ptr;
        EXPECT_EQ(callv(ctx, mc.fn, args), kInvalidMemoryAccess)
            << mc.fn << " out arg " << out << " = " << ptr;
        // A failed out-pointer never leaks a guest allocation.
        EXPECT_EQ(hostState().substr(hostState().rfind('|')), before.substr(before.rfind('|')))
            << mc.fn;
        ++checked;
      }
    }
    ASSERT_FALSE(inst().failed()) << mc.fn;
  }
  EXPECT_GT(checked, 300u);
  // The host is unaffected: the same calls with good arguments still work.
  for (const MemCase& mc : kMemCases) {
    const uint32_t r = callv(ctx, mc.fn, mc.args);
    EXPECT_NE(r, kInvalidMemoryAccess) << mc.fn;
  }
}

TEST_F(OutOfBounds, EightByteOutParamsStraddlingTheEnd) {
  const uint32_t ctx = stream().contextId();
  EXPECT_EQ(call(ctx, "t_proxy_get_current_time_nanoseconds", kMemSize - 7), kInvalidMemoryAccess);
  EXPECT_EQ(call(ctx, "t_proxy_get_current_time_nanoseconds", kMemSize - 8), kOk);
  EXPECT_EQ(call(ctx, "t_proxy_get_metric", 4, kMemSize - 4), kInvalidMemoryAccess);
}

TEST_F(OutOfBounds, FunctionsWithoutMemoryArgumentsStillValidateEnums) {
  const uint32_t ctx = stream().contextId();
  EXPECT_EQ(call(ctx, "t_proxy_get_buffer_bytes", 0xffffffff, 0, 1, kOutPtr, kOutSize),
            kBadArgument);
  EXPECT_EQ(call(ctx, "t_proxy_get_header_map_pairs", 0xffffffff, kOutPtr, kOutSize), kBadArgument);
  EXPECT_EQ(call(ctx, "t_proxy_continue_stream", 0x80000000), kBadArgument);
  EXPECT_EQ(call(ctx, "t_proxy_define_metric", 0xffffffff, kScratch, 1, kOut), kBadArgument);
  EXPECT_EQ(call(ctx, "t_proxy_log", 0x80000000, kScratch, 1), kBadArgument);
}

} // namespace
} // namespace wasmgate::wasm::abi::testing
