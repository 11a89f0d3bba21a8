// The wasm-mode code path (no PROXY_WASM_NULL_VM), compiled natively: the proxy_* imports are
// defined below as a host double, and the test calls the module's extern "C" exports the way
// a host calls a wasm module. Also pins the C signatures of the exports.
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "gtest/gtest.h"
#include "proxy_wasm_intrinsics.h"

// The exports have the ABI's shapes: i32 in, i32 or nothing out (proxy-wasm-abi.md 2.x).
static_assert(std::is_same_v<decltype(&proxy_abi_version_0_2_1), void (*)()>);
static_assert(std::is_same_v<decltype(&proxy_on_context_create), void (*)(uint32_t, uint32_t)>);
static_assert(std::is_same_v<decltype(&proxy_on_vm_start), uint32_t (*)(uint32_t, uint32_t)>);
static_assert(std::is_same_v<decltype(&proxy_on_configure), uint32_t (*)(uint32_t, uint32_t)>);
static_assert(std::is_same_v<decltype(&proxy_on_request_headers),
                             uint32_t (*)(uint32_t, uint32_t, uint32_t)>);
static_assert(
    std::is_same_v<decltype(&proxy_on_response_body), uint32_t (*)(uint32_t, uint32_t, uint32_t)>);
static_assert(
    std::is_same_v<decltype(&proxy_on_request_trailers), uint32_t (*)(uint32_t, uint32_t)>);
static_assert(std::is_same_v<decltype(&proxy_on_http_call_response),
                             void (*)(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t)>);
static_assert(std::is_same_v<decltype(&proxy_on_grpc_receive_trailing_metadata),
                             void (*)(uint32_t, uint32_t, uint32_t)>);
static_assert(std::is_same_v<decltype(&proxy_on_done), uint32_t (*)(uint32_t)>);
static_assert(std::is_same_v<decltype(&proxy_on_delete), void (*)(uint32_t)>);
static_assert(std::is_same_v<decltype(&proxy_on_new_connection), uint32_t (*)(uint32_t)>);
static_assert(
    std::is_same_v<decltype(&proxy_on_foreign_function), void (*)(uint32_t, uint32_t, uint32_t)>);
// The two i64 imports.
static_assert(std::is_same_v<decltype(&proxy_increment_metric), WasmResult (*)(uint32_t, int64_t)>);
static_assert(std::is_same_v<decltype(&proxy_record_metric), WasmResult (*)(uint32_t, uint64_t)>);

namespace {

struct Double {
  std::map<std::string, std::string> properties;
  std::map<std::string, std::string> response_headers;
  std::vector<std::string> logs;
};
Double g;

void returnBytes(const std::string &s, const char **ptr, size_t *size) {
  if (s.empty()) {
    *ptr = nullptr;
    *size = 0;
    return;
  }
  char *p = static_cast<char *>(::malloc(s.size()));
  memcpy(p, s.data(), s.size());
  *ptr = p;
  *size = s.size();
}

} // namespace

// The host double: the imports a wasm host would provide.
extern "C" {
WasmResult proxy_log(LogLevel, const char *m, size_t n) {
  g.logs.emplace_back(m, n);
  return WasmResult::Ok;
}
WasmResult proxy_get_property(const char *p, size_t n, const char **v, size_t *vn) {
  auto it = g.properties.find(std::string(p, n));
  if (it == g.properties.end())
    return WasmResult::NotFound;
  returnBytes(it->second, v, vn);
  return WasmResult::Ok;
}
WasmResult proxy_add_header_map_value(WasmHeaderMapType type, const char *k, size_t kn,
                                      const char *v, size_t vn) {
  if (type != WasmHeaderMapType::ResponseHeaders)
    return WasmResult::BadArgument;
  g.response_headers[std::string(k, kn)] = std::string(v, vn);
  return WasmResult::Ok;
}
WasmResult proxy_get_buffer_bytes(WasmBufferType type, uint32_t start, uint32_t length,
                                  const char **ptr, size_t *size) {
  if (type != WasmBufferType::PluginConfiguration)
    return WasmResult::NotFound;
  std::string config = "x-from-config";
  returnBytes(config.substr(std::min<size_t>(start, config.size()), length), ptr, size);
  return WasmResult::Ok;
}

#define UNIMPLEMENTED(_name, ...)                                                                  \
  WasmResult _name(__VA_ARGS__) { return WasmResult::Unimplemented; }
UNIMPLEMENTED(proxy_get_configuration, const char **, size_t *)
UNIMPLEMENTED(proxy_get_status, uint32_t *, const char **, size_t *)
UNIMPLEMENTED(proxy_get_log_level, LogLevel *)
UNIMPLEMENTED(proxy_set_tick_period_milliseconds, uint32_t)
UNIMPLEMENTED(proxy_get_current_time_nanoseconds, uint64_t *)
UNIMPLEMENTED(proxy_set_property, const char *, size_t, const char *, size_t)
UNIMPLEMENTED(proxy_continue_stream, WasmStreamType)
UNIMPLEMENTED(proxy_close_stream, WasmStreamType)
UNIMPLEMENTED(proxy_continue_request)
UNIMPLEMENTED(proxy_continue_response)
UNIMPLEMENTED(proxy_send_local_response, uint32_t, const char *, size_t, const char *, size_t,
              const char *, size_t, uint32_t)
UNIMPLEMENTED(proxy_clear_route_cache)
UNIMPLEMENTED(proxy_get_shared_data, const char *, size_t, const char **, size_t *, uint32_t *)
UNIMPLEMENTED(proxy_set_shared_data, const char *, size_t, const char *, size_t, uint32_t)
UNIMPLEMENTED(proxy_register_shared_queue, const char *, size_t, uint32_t *)
UNIMPLEMENTED(proxy_resolve_shared_queue, const char *, size_t, const char *, size_t, uint32_t *)
UNIMPLEMENTED(proxy_dequeue_shared_queue, uint32_t, const char **, size_t *)
UNIMPLEMENTED(proxy_enqueue_shared_queue, uint32_t, const char *, size_t)
UNIMPLEMENTED(proxy_get_header_map_value, WasmHeaderMapType, const char *, size_t, const char **,
              size_t *)
UNIMPLEMENTED(proxy_get_header_map_pairs, WasmHeaderMapType, const char **, size_t *)
UNIMPLEMENTED(proxy_set_header_map_pairs, WasmHeaderMapType, const char *, size_t)
UNIMPLEMENTED(proxy_replace_header_map_value, WasmHeaderMapType, const char *, size_t, const char *,
              size_t)
UNIMPLEMENTED(proxy_remove_header_map_value, WasmHeaderMapType, const char *, size_t)
UNIMPLEMENTED(proxy_get_header_map_size, WasmHeaderMapType, size_t *)
UNIMPLEMENTED(proxy_get_buffer_status, WasmBufferType, size_t *, uint32_t *)
UNIMPLEMENTED(proxy_set_buffer_bytes, WasmBufferType, uint32_t, uint32_t, const char *, size_t)
UNIMPLEMENTED(proxy_http_call, const char *, size_t, void *, size_t, const char *, size_t, void *,
              size_t, uint32_t, uint32_t *)
UNIMPLEMENTED(proxy_grpc_call, const char *, size_t, const char *, size_t, const char *, size_t,
              void *, size_t, const char *, size_t, uint32_t, uint32_t *)
UNIMPLEMENTED(proxy_grpc_stream, const char *, size_t, const char *, size_t, const char *, size_t,
              void *, size_t, uint32_t *)
UNIMPLEMENTED(proxy_grpc_cancel, uint32_t)
UNIMPLEMENTED(proxy_grpc_close, uint32_t)
UNIMPLEMENTED(proxy_grpc_send, uint32_t, const char *, size_t, uint32_t)
UNIMPLEMENTED(proxy_define_metric, MetricType, const char *, size_t, uint32_t *)
UNIMPLEMENTED(proxy_increment_metric, uint32_t, int64_t)
UNIMPLEMENTED(proxy_record_metric, uint32_t, uint64_t)
UNIMPLEMENTED(proxy_get_metric, uint32_t, uint64_t *)
UNIMPLEMENTED(proxy_set_effective_context, uint32_t)
UNIMPLEMENTED(proxy_done)
UNIMPLEMENTED(proxy_call_foreign_function, const char *, size_t, const char *, size_t, char **,
              size_t *)
#undef UNIMPLEMENTED
}

// A plugin in the same binary, registered the wasm way (global factories).
namespace {

std::vector<std::string> g_events;

class WasmRoot : public RootContext {
public:
  WasmRoot(uint32_t id, std::string_view root_id) : RootContext(id, root_id) {}
  bool onConfigure(size_t size) override {
    header_ = getBufferBytes(WasmBufferType::PluginConfiguration, 0, size)->toString();
    g_events.push_back("configure " + header_);
    return !header_.empty();
  }
  std::string header_;
};

class WasmStream : public Context {
public:
  WasmStream(uint32_t id, RootContext *root) : Context(id, root) {}
  FilterHeadersStatus onResponseHeaders(uint32_t, bool) override {
    addResponseHeader(static_cast<WasmRoot *>(root())->header_, std::to_string(id()));
    return FilterHeadersStatus::Continue;
  }
  FilterDataStatus onResponseBody(size_t size, bool end_of_stream) override {
    g_events.push_back("body " + std::to_string(size) + " " + std::to_string(end_of_stream));
    return end_of_stream ? FilterDataStatus::Continue : FilterDataStatus::StopIterationAndBuffer;
  }
  void onDelete() override { g_events.push_back("delete " + std::to_string(id())); }
};

RegisterContextFactory register_Wasm(CONTEXT_FACTORY(WasmStream), ROOT_FACTORY(WasmRoot),
                                     "wasm_root");

TEST(WasmAbi, ExportsDriveTheRegisteredContexts) {
  proxy_abi_version_0_2_1(); // a marker, but callable
  g.properties["plugin_root_id"] = "wasm_root";
  proxy_on_context_create(1, 0);
  EXPECT_NE(getRootContext(1), nullptr);
  EXPECT_EQ(getRoot("wasm_root"), getRootContext(1));
  EXPECT_EQ(proxy_on_vm_start(1, 0), 1u);
  EXPECT_EQ(proxy_on_configure(1, 13), 1u);
  proxy_on_context_create(2, 1);
  ASSERT_NE(getContext(2), nullptr);
  EXPECT_EQ(getContext(2)->root(), getRootContext(1));
  EXPECT_EQ(proxy_on_response_headers(2, 1, 0), 0u);
  EXPECT_EQ(g.response_headers["x-from-config"], "2");
  EXPECT_EQ(proxy_on_response_body(2, 10, 0), 1u);
  EXPECT_EQ(proxy_on_response_body(2, 20, 1), 0u);
  EXPECT_EQ(proxy_on_done(2), 1u);
  proxy_on_log(2);
  proxy_on_delete(2);
  EXPECT_EQ(getContext(2), nullptr);
  EXPECT_EQ(g_events, (std::vector<std::string>{"configure x-from-config", "body 10 0", "body 20 1",
                                                "delete 2"}));
  // Unknown context ids: neutral answers, no crash.
  EXPECT_EQ(proxy_on_request_headers(77, 1, 1), 0u);
  proxy_on_log(77);
  proxy_on_delete(77);
  // Root contexts: on_log is safe (the upstream SDK would dereference null here).
  proxy_on_log(1);
  EXPECT_EQ(proxy_on_done(1), 1u);
  proxy_on_delete(1);
  EXPECT_EQ(getRoot("wasm_root"), nullptr);
}

} // namespace
