// wasmgate "null VM" plugin interface: plugins compiled natively into the proxy binary
// (Istio's NullVM idea), selected by `vm_config.runtime: envoy.wasm.runtime.null` and
// `code.local.inline_string: <name>`.
//
// This header is the whole contract between the proxy and native plugins. It is
// self-contained (no SDK types) so proxy code can include it without pulling the plugin SDK's
// global `Context`/`RootContext` classes into its own translation units.
//
//  * Host -> plugin ("exports"): `NullVmPlugin`, one table per registered plugin name. Every
//    function is the wasm export of the same name with a leading `void* instance` (a "VM
//    instance" made by `create_instance`); all other parameters and results are the wasm ABI
//    values (u32 stays uint32_t).
//  * Plugin -> host ("imports"): `NullVmHostApi`, one function pointer per `proxy_*` hostcall
//    with the wasm parameter order. Guest pointers become native pointers, `size_t` stays
//    `size_t` (64-bit natively), i64 stays 64-bit, enums and `WasmResult` are `uint32_t`.
//
// Plugin sources opt in with `WASMGATE_NULL_PLUGIN(name)` (defined by the SDK; a no-op when
// compiling to wasm). See README.md "Null VM" for the host's obligations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace wasmgate::nullvm {

// Bumped on any incompatible change of the two tables below.
inline constexpr uint32_t kNullVmApiVersion = 1;

// Implemented by the proxy. Every hostcall acts on the proxy's "current context" (the context
// the host is calling into, or the effective one after proxy_set_effective_context) exactly
// as for wasm modules: the plugin never passes an instance or context handle.
//
// Return-pair convention (`const char** ptr, size_t* size` out-params): the host allocates
// the result with std::malloc (the SDK releases it with std::free) or writes (nullptr, 0) for
// an empty result. Input pointers are only valid during the call.
//
// Any pointer may be left null: the SDK then returns WasmResult::Unimplemented (12) to the
// plugin for that call, so the host can be filled in incrementally.
struct NullVmHostApi {
  uint32_t api_version = kNullVmApiVersion;

  // Logging, time, misc.
  uint32_t (*proxy_log)(uint32_t level, const char *message, size_t message_size) = nullptr;
  uint32_t (*proxy_get_log_level)(uint32_t *level) = nullptr;
  uint32_t (*proxy_get_current_time_nanoseconds)(uint64_t *nanoseconds) = nullptr;
  uint32_t (*proxy_set_tick_period_milliseconds)(uint32_t period_milliseconds) = nullptr;
  uint32_t (*proxy_get_status)(uint32_t *status_code, const char **message,
                               size_t *message_size) = nullptr;
  uint32_t (*proxy_set_effective_context)(uint32_t context_id) = nullptr;
  uint32_t (*proxy_done)() = nullptr;
  uint32_t (*proxy_call_foreign_function)(const char *function_name, size_t function_name_size,
                                          const char *arguments, size_t arguments_size,
                                          char **results, size_t *results_size) = nullptr;

  // Buffers (type = WasmBufferType 0..8).
  uint32_t (*proxy_get_buffer_bytes)(uint32_t buffer_type, uint32_t start, uint32_t max_size,
                                     const char **ptr, size_t *size) = nullptr;
  uint32_t (*proxy_set_buffer_bytes)(uint32_t buffer_type, uint32_t start, uint32_t size,
                                     const char *data, size_t data_size) = nullptr;
  uint32_t (*proxy_get_buffer_status)(uint32_t buffer_type, size_t *length,
                                      uint32_t *flags) = nullptr;

  // Header/trailer/metadata maps (type = WasmHeaderMapType 0..7). Pairs use the serialized
  // map format of the ABI (little-endian u32s) in both directions.
  uint32_t (*proxy_get_header_map_pairs)(uint32_t map_type, const char **ptr,
                                         size_t *size) = nullptr;
  uint32_t (*proxy_set_header_map_pairs)(uint32_t map_type, const char *ptr, size_t size) = nullptr;
  uint32_t (*proxy_get_header_map_value)(uint32_t map_type, const char *key, size_t key_size,
                                         const char **value, size_t *value_size) = nullptr;
  uint32_t (*proxy_add_header_map_value)(uint32_t map_type, const char *key, size_t key_size,
                                         const char *value, size_t value_size) = nullptr;
  uint32_t (*proxy_replace_header_map_value)(uint32_t map_type, const char *key, size_t key_size,
                                             const char *value, size_t value_size) = nullptr;
  uint32_t (*proxy_remove_header_map_value)(uint32_t map_type, const char *key,
                                            size_t key_size) = nullptr;
  uint32_t (*proxy_get_header_map_size)(uint32_t map_type, size_t *size) = nullptr;

  // Stream control (stream_type = WasmStreamType 0..3).
  uint32_t (*proxy_continue_stream)(uint32_t stream_type) = nullptr;
  uint32_t (*proxy_close_stream)(uint32_t stream_type) = nullptr;
  // grpc_status: 0..16, or 0xFFFFFFFF (GrpcStatus::InvalidCode) for "not a gRPC reply".
  uint32_t (*proxy_send_local_response)(uint32_t status_code, const char *details,
                                        size_t details_size, const char *body, size_t body_size,
                                        const char *headers, size_t headers_size,
                                        uint32_t grpc_status) = nullptr;

  // Properties (path segments each followed by '\0', as the C++ SDK sends them).
  uint32_t (*proxy_get_property)(const char *path, size_t path_size, const char **value,
                                 size_t *value_size) = nullptr;
  uint32_t (*proxy_set_property)(const char *path, size_t path_size, const char *value,
                                 size_t value_size) = nullptr;

  // Shared data and queues.
  uint32_t (*proxy_get_shared_data)(const char *key, size_t key_size, const char **value,
                                    size_t *value_size, uint32_t *cas) = nullptr;
  uint32_t (*proxy_set_shared_data)(const char *key, size_t key_size, const char *value,
                                    size_t value_size, uint32_t cas) = nullptr;
  uint32_t (*proxy_register_shared_queue)(const char *name, size_t name_size,
                                          uint32_t *token) = nullptr;
  uint32_t (*proxy_resolve_shared_queue)(const char *vm_id, size_t vm_id_size, const char *name,
                                         size_t name_size, uint32_t *token) = nullptr;
  uint32_t (*proxy_enqueue_shared_queue)(uint32_t token, const char *data,
                                         size_t data_size) = nullptr;
  uint32_t (*proxy_dequeue_shared_queue)(uint32_t token, const char **data,
                                         size_t *data_size) = nullptr;

  // Metrics (type = MetricType 0..2).
  uint32_t (*proxy_define_metric)(uint32_t metric_type, const char *name, size_t name_size,
                                  uint32_t *metric_id) = nullptr;
  uint32_t (*proxy_increment_metric)(uint32_t metric_id, int64_t offset) = nullptr;
  uint32_t (*proxy_record_metric)(uint32_t metric_id, uint64_t value) = nullptr;
  uint32_t (*proxy_get_metric)(uint32_t metric_id, uint64_t *value) = nullptr;

  // HTTP and gRPC callouts.
  uint32_t (*proxy_http_call)(const char *upstream, size_t upstream_size, const char *headers,
                              size_t headers_size, const char *body, size_t body_size,
                              const char *trailers, size_t trailers_size, uint32_t timeout_ms,
                              uint32_t *token) = nullptr;
  uint32_t (*proxy_grpc_call)(const char *service, size_t service_size, const char *service_name,
                              size_t service_name_size, const char *method_name,
                              size_t method_name_size, const char *initial_metadata,
                              size_t initial_metadata_size, const char *message,
                              size_t message_size, uint32_t timeout_ms, uint32_t *token) = nullptr;
  uint32_t (*proxy_grpc_stream)(const char *service, size_t service_size, const char *service_name,
                                size_t service_name_size, const char *method_name,
                                size_t method_name_size, const char *initial_metadata,
                                size_t initial_metadata_size, uint32_t *token) = nullptr;
  uint32_t (*proxy_grpc_send)(uint32_t token, const char *message, size_t message_size,
                              uint32_t end_stream) = nullptr;
  uint32_t (*proxy_grpc_cancel)(uint32_t token) = nullptr;
  uint32_t (*proxy_grpc_close)(uint32_t token) = nullptr;

  // ABI 0.1.0-only hostcalls. The SDK speaks 0.2.1 and never calls them itself; they exist
  // for plugins that call them directly and may be left null.
  uint32_t (*proxy_get_configuration)(const char **ptr, size_t *size) = nullptr;
  uint32_t (*proxy_continue_request)() = nullptr;
  uint32_t (*proxy_continue_response)() = nullptr;
  uint32_t (*proxy_clear_route_cache)() = nullptr;
};

// Implemented by the SDK, one per `WASMGATE_NULL_PLUGIN(name)`. Results and arguments have the
// wasm ABI's meaning (section 2 of proxy-wasm-abi.md), e.g. proxy_on_configure returns 0 to
// reject the configuration and proxy_on_request_headers returns a FilterHeadersStatus.
struct NullVmPlugin {
  uint32_t api_version = kNullVmApiVersion;
  const char *name = nullptr;        // code.local.inline_string selects it
  const char *abi_version = nullptr; // "0.2.1": what the wasm module would export as marker

  // One instance = one wasm VM instance: its own context ids, root contexts and callouts.
  // The host makes one per (plugin config, worker thread) like it does for wasm, and must not
  // call into one instance from two threads at once. `host` must outlive the instance.
  void *(*create_instance)(const NullVmPlugin *plugin, const NullVmHostApi *host) = nullptr;
  // Deletes the instance and every context still alive in it (no callbacks are made).
  void (*destroy_instance)(void *instance) = nullptr;

  // Lifecycle and configuration.
  void (*proxy_on_context_create)(void *instance, uint32_t context_id,
                                  uint32_t parent_context_id) = nullptr;
  uint32_t (*proxy_on_vm_start)(void *instance, uint32_t root_context_id,
                                uint32_t vm_configuration_size) = nullptr;
  uint32_t (*proxy_validate_configuration)(void *instance, uint32_t root_context_id,
                                           uint32_t plugin_configuration_size) = nullptr;
  uint32_t (*proxy_on_configure)(void *instance, uint32_t root_context_id,
                                 uint32_t plugin_configuration_size) = nullptr;
  void (*proxy_on_tick)(void *instance, uint32_t root_context_id) = nullptr;
  void (*proxy_on_queue_ready)(void *instance, uint32_t root_context_id,
                               uint32_t queue_id) = nullptr;
  void (*proxy_on_foreign_function)(void *instance, uint32_t root_context_id, uint32_t function_id,
                                    uint32_t arguments_size) = nullptr;
  uint32_t (*proxy_on_done)(void *instance, uint32_t context_id) = nullptr;
  void (*proxy_on_log)(void *instance, uint32_t context_id) = nullptr;
  void (*proxy_on_delete)(void *instance, uint32_t context_id) = nullptr;

  // TCP.
  uint32_t (*proxy_on_new_connection)(void *instance, uint32_t context_id) = nullptr;
  uint32_t (*proxy_on_downstream_data)(void *instance, uint32_t context_id, uint32_t data_size,
                                       uint32_t end_of_stream) = nullptr;
  uint32_t (*proxy_on_upstream_data)(void *instance, uint32_t context_id, uint32_t data_size,
                                     uint32_t end_of_stream) = nullptr;
  void (*proxy_on_downstream_connection_close)(void *instance, uint32_t context_id,
                                               uint32_t peer_type) = nullptr;
  void (*proxy_on_upstream_connection_close)(void *instance, uint32_t context_id,
                                             uint32_t peer_type) = nullptr;

  // HTTP.
  uint32_t (*proxy_on_request_headers)(void *instance, uint32_t context_id, uint32_t num_headers,
                                       uint32_t end_of_stream) = nullptr;
  uint32_t (*proxy_on_request_body)(void *instance, uint32_t context_id, uint32_t body_size,
                                    uint32_t end_of_stream) = nullptr;
  uint32_t (*proxy_on_request_trailers)(void *instance, uint32_t context_id,
                                        uint32_t num_trailers) = nullptr;
  uint32_t (*proxy_on_request_metadata)(void *instance, uint32_t context_id,
                                        uint32_t num_elements) = nullptr;
  uint32_t (*proxy_on_response_headers)(void *instance, uint32_t context_id, uint32_t num_headers,
                                        uint32_t end_of_stream) = nullptr;
  uint32_t (*proxy_on_response_body)(void *instance, uint32_t context_id, uint32_t body_size,
                                     uint32_t end_of_stream) = nullptr;
  uint32_t (*proxy_on_response_trailers)(void *instance, uint32_t context_id,
                                         uint32_t num_trailers) = nullptr;
  uint32_t (*proxy_on_response_metadata)(void *instance, uint32_t context_id,
                                         uint32_t num_elements) = nullptr;

  // Callouts (always delivered to the root context).
  void (*proxy_on_http_call_response)(void *instance, uint32_t root_context_id, uint32_t token,
                                      uint32_t num_headers, uint32_t body_size,
                                      uint32_t num_trailers) = nullptr;
  void (*proxy_on_grpc_receive_initial_metadata)(void *instance, uint32_t root_context_id,
                                                 uint32_t token, uint32_t num_elements) = nullptr;
  void (*proxy_on_grpc_receive)(void *instance, uint32_t root_context_id, uint32_t token,
                                uint32_t message_size) = nullptr;
  void (*proxy_on_grpc_receive_trailing_metadata)(void *instance, uint32_t root_context_id,
                                                  uint32_t token, uint32_t num_elements) = nullptr;
  void (*proxy_on_grpc_close)(void *instance, uint32_t root_context_id, uint32_t token,
                              uint32_t grpc_status) = nullptr;

  // SDK-private: the context factories this plugin registered.
  const void *sdk_data = nullptr;
};

// Process-wide registry of native plugins, filled by static initializers of the plugin
// objects linked into the binary (link them as an OBJECT library or with --whole-archive so
// the initializers are not dropped). Read-only after static initialization.
inline std::map<std::string, const NullVmPlugin *, std::less<>> &pluginRegistry() {
  static std::map<std::string, const NullVmPlugin *, std::less<>> registry;
  return registry;
}

// Two plugins with one name is a build mistake; fail loudly at startup rather than pick one.
inline void registerPlugin(const NullVmPlugin *plugin) {
  auto [it, inserted] = pluginRegistry().emplace(plugin->name, plugin);
  if (!inserted && it->second != plugin) {
    std::fprintf(stderr, "wasmgate: two null-VM plugins are registered as '%s'\n", plugin->name);
    std::abort();
  }
}

// nullptr when no plugin of that name is linked in.
inline const NullVmPlugin *findPlugin(std::string_view name) {
  auto &registry = pluginRegistry();
  auto it = registry.find(name);
  return it == registry.end() ? nullptr : it->second;
}

inline std::vector<std::string> registeredPluginNames() {
  std::vector<std::string> names;
  for (const auto &[name, plugin] : pluginRegistry()) {
    names.push_back(name);
  }
  return names;
}

} // namespace wasmgate::nullvm
