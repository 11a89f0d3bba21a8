// wasmgate C++ plugin SDK (source-compatible with proxy-wasm-cpp-sdk).
//
// The Proxy-Wasm hostcalls ("imports"). Declared with the proxy-wasm-cpp-sdk C++ types; on
// wasm32 every pointer, size_t and enum lowers to i32 and (u)int64_t to i64, which is exactly the
// ABI's signature (proxy-wasm-abi.md section 1; build-plugins.sh checks each import's type).
//
// Three build modes:
//  * wasm32 (default): imports from module "env".
//  * native without PROXY_WASM_NULL_VM: plain extern "C" declarations, so a test can link its
//    own definitions (a test double of the host).
//  * PROXY_WASM_NULL_VM: inline functions forwarding to the proxy's NullVmHostApi table of the
//    instance currently being called (see null_plugin.h).
// NOLINT(namespace-envoy)
#pragma once

#include <cstddef>
#include <cstdint>

#ifndef PROXY_WASM_NULL_VM

#if defined(__wasm__)
#define PROXY_WASM_IMPORT(_name) __attribute__((import_module("env"), import_name(#_name)))
#else
#define PROXY_WASM_IMPORT(_name)
#endif

// Marks hostcalls that only ABI 0.1.0 hosts register. This SDK declares 0.2.1, and a module
// importing them fails to load ("missing import") in Envoy and wasmgate.
#define PROXY_WASM_ABI_0_1_0_ONLY(_instead)                                                        \
  [[deprecated("ABI 0.1.0-only hostcall: a 0.2.1 module importing it fails to load; " _instead)]]

// Configuration and status
extern "C" PROXY_WASM_ABI_0_1_0_ONLY("use getBufferBytes(WasmBufferType::PluginConfiguration, ...)")
    PROXY_WASM_IMPORT(proxy_get_configuration) WasmResult
    proxy_get_configuration(const char **configuration_ptr, size_t *configuration_size);
// Status details of the last callout (onHttpCallResponse / onGrpcClose).
extern "C" PROXY_WASM_IMPORT(proxy_get_status) WasmResult
    proxy_get_status(uint32_t *status_code_ptr, const char **message_ptr, size_t *message_size);

// Logging
extern "C" PROXY_WASM_IMPORT(proxy_log) WasmResult
    proxy_log(LogLevel level, const char *logMessage, size_t messageSize);
extern "C" PROXY_WASM_IMPORT(proxy_get_log_level) WasmResult proxy_get_log_level(LogLevel *level);

// Timer (set for the root context of the effective context).
extern "C" PROXY_WASM_IMPORT(proxy_set_tick_period_milliseconds) WasmResult
    proxy_set_tick_period_milliseconds(uint32_t millisecond);

// Time
extern "C" PROXY_WASM_IMPORT(proxy_get_current_time_nanoseconds) WasmResult
    proxy_get_current_time_nanoseconds(uint64_t *nanoseconds);

// State accessors
extern "C" PROXY_WASM_IMPORT(proxy_get_property) WasmResult
    proxy_get_property(const char *path_ptr, size_t path_size, const char **value_ptr_ptr,
                       size_t *value_size_ptr);
extern "C" PROXY_WASM_IMPORT(proxy_set_property) WasmResult
    proxy_set_property(const char *path_ptr, size_t path_size, const char *value_ptr,
                       size_t value_size);

// Continue/Close/Reply/Route
extern "C" PROXY_WASM_IMPORT(proxy_continue_stream) WasmResult
    proxy_continue_stream(WasmStreamType stream_type);
extern "C" PROXY_WASM_IMPORT(proxy_close_stream) WasmResult
    proxy_close_stream(WasmStreamType stream_type);
extern "C" PROXY_WASM_ABI_0_1_0_ONLY("use continueRequest()")
    PROXY_WASM_IMPORT(proxy_continue_request) WasmResult proxy_continue_request();
extern "C" PROXY_WASM_ABI_0_1_0_ONLY("use continueResponse()")
    PROXY_WASM_IMPORT(proxy_continue_response) WasmResult proxy_continue_response();
extern "C" PROXY_WASM_IMPORT(proxy_send_local_response) WasmResult
    proxy_send_local_response(uint32_t response_code, const char *response_code_details_ptr,
                              size_t response_code_details_size, const char *body_ptr,
                              size_t body_size, const char *additional_response_header_pairs_ptr,
                              size_t additional_response_header_pairs_size, uint32_t grpc_status);
extern "C" PROXY_WASM_ABI_0_1_0_ONLY("call the foreign function \"clear_route_cache\" instead")
    PROXY_WASM_IMPORT(proxy_clear_route_cache) WasmResult proxy_clear_route_cache();

// SharedData
// Returns: Ok, NotFound
extern "C" PROXY_WASM_IMPORT(proxy_get_shared_data) WasmResult
    proxy_get_shared_data(const char *key_ptr, size_t key_size, const char **value_ptr,
                          size_t *value_size, uint32_t *cas);
// If cas != 0 and cas != the current cas for 'key' return CasMismatch, otherwise set the value.
// Returns: Ok, CasMismatch
extern "C" PROXY_WASM_IMPORT(proxy_set_shared_data) WasmResult
    proxy_set_shared_data(const char *key_ptr, size_t key_size, const char *value_ptr,
                          size_t value_size, uint32_t cas);

// SharedQueue
// Registering the same queue_name again moves notifications to the caller while preserving
// pending data. Returns: Ok
extern "C" PROXY_WASM_IMPORT(proxy_register_shared_queue) WasmResult
    proxy_register_shared_queue(const char *queue_name_ptr, size_t queue_name_size,
                                uint32_t *token);
// Returns: Ok, NotFound
extern "C" PROXY_WASM_IMPORT(proxy_resolve_shared_queue) WasmResult
    proxy_resolve_shared_queue(const char *vm_id, size_t vm_id_size, const char *queue_name_ptr,
                               size_t queue_name_size, uint32_t *token);
// Returns Ok, Empty, NotFound (token not registered).
extern "C" PROXY_WASM_IMPORT(proxy_dequeue_shared_queue) WasmResult
    proxy_dequeue_shared_queue(uint32_t token, const char **data_ptr, size_t *data_size);
// Returns Ok, NotFound.
extern "C" PROXY_WASM_IMPORT(proxy_enqueue_shared_queue) WasmResult
    proxy_enqueue_shared_queue(uint32_t token, const char *data_ptr, size_t data_size);

// Headers/Trailers/Metadata Maps
extern "C" PROXY_WASM_IMPORT(proxy_add_header_map_value) WasmResult
    proxy_add_header_map_value(WasmHeaderMapType type, const char *key_ptr, size_t key_size,
                               const char *value_ptr, size_t value_size);
extern "C" PROXY_WASM_IMPORT(proxy_get_header_map_value) WasmResult
    proxy_get_header_map_value(WasmHeaderMapType type, const char *key_ptr, size_t key_size,
                               const char **value_ptr, size_t *value_size);
extern "C" PROXY_WASM_IMPORT(proxy_get_header_map_pairs) WasmResult
    proxy_get_header_map_pairs(WasmHeaderMapType type, const char **ptr, size_t *size);
extern "C" PROXY_WASM_IMPORT(proxy_set_header_map_pairs) WasmResult
    proxy_set_header_map_pairs(WasmHeaderMapType type, const char *ptr, size_t size);
extern "C" PROXY_WASM_IMPORT(proxy_replace_header_map_value) WasmResult
    proxy_replace_header_map_value(WasmHeaderMapType type, const char *key_ptr, size_t key_size,
                                   const char *value_ptr, size_t value_size);
extern "C" PROXY_WASM_IMPORT(proxy_remove_header_map_value) WasmResult
    proxy_remove_header_map_value(WasmHeaderMapType type, const char *key_ptr, size_t key_size);
extern "C" PROXY_WASM_IMPORT(proxy_get_header_map_size) WasmResult
    proxy_get_header_map_size(WasmHeaderMapType type, size_t *size);

// Buffer
extern "C" PROXY_WASM_IMPORT(proxy_get_buffer_bytes) WasmResult
    proxy_get_buffer_bytes(WasmBufferType type, uint32_t start, uint32_t length, const char **ptr,
                           size_t *size);
extern "C" PROXY_WASM_IMPORT(proxy_get_buffer_status) WasmResult
    proxy_get_buffer_status(WasmBufferType type, size_t *length_ptr, uint32_t *flags_ptr);
extern "C" PROXY_WASM_IMPORT(proxy_set_buffer_bytes) WasmResult
    proxy_set_buffer_bytes(WasmBufferType type, uint32_t start, uint32_t length, const char *ptr,
                           size_t size);

// HTTP
extern "C" PROXY_WASM_IMPORT(proxy_http_call) WasmResult
    proxy_http_call(const char *uri_ptr, size_t uri_size, void *header_pairs_ptr,
                    size_t header_pairs_size, const char *body_ptr, size_t body_size,
                    void *trailer_pairs_ptr, size_t trailer_pairs_size,
                    uint32_t timeout_milliseconds, uint32_t *token_ptr);

// gRPC
extern "C" PROXY_WASM_IMPORT(proxy_grpc_call) WasmResult
    proxy_grpc_call(const char *service_ptr, size_t service_size, const char *service_name_ptr,
                    size_t service_name_size, const char *method_name_ptr, size_t method_name_size,
                    void *initial_metadata_ptr, size_t initial_metadata_size,
                    const char *request_ptr, size_t request_size, uint32_t timeout_milliseconds,
                    uint32_t *token_ptr);
extern "C" PROXY_WASM_IMPORT(proxy_grpc_stream) WasmResult
    proxy_grpc_stream(const char *service_ptr, size_t service_size, const char *service_name_ptr,
                      size_t service_name_size, const char *method_name_ptr,
                      size_t method_name_size, void *initial_metadata, size_t initial_metadata_size,
                      uint32_t *token_ptr);
extern "C" PROXY_WASM_IMPORT(proxy_grpc_cancel) WasmResult proxy_grpc_cancel(uint32_t token);
extern "C" PROXY_WASM_IMPORT(proxy_grpc_close) WasmResult proxy_grpc_close(uint32_t token);
extern "C" PROXY_WASM_IMPORT(proxy_grpc_send) WasmResult
    proxy_grpc_send(uint32_t token, const char *message_ptr, size_t message_size,
                    uint32_t end_stream);

// Metrics
extern "C" PROXY_WASM_IMPORT(proxy_define_metric) WasmResult
    proxy_define_metric(MetricType type, const char *name_ptr, size_t name_size,
                        uint32_t *metric_id);
extern "C" PROXY_WASM_IMPORT(proxy_increment_metric) WasmResult
    proxy_increment_metric(uint32_t metric_id, int64_t offset);
extern "C" PROXY_WASM_IMPORT(proxy_record_metric) WasmResult
    proxy_record_metric(uint32_t metric_id, uint64_t value);
extern "C" PROXY_WASM_IMPORT(proxy_get_metric) WasmResult
    proxy_get_metric(uint32_t metric_id, uint64_t *result);

// System
extern "C" PROXY_WASM_IMPORT(proxy_set_effective_context) WasmResult
    proxy_set_effective_context(uint32_t effective_context_id);
extern "C" PROXY_WASM_IMPORT(proxy_done) WasmResult proxy_done();
extern "C" PROXY_WASM_IMPORT(proxy_call_foreign_function) WasmResult
    proxy_call_foreign_function(const char *function_name, size_t function_name_size,
                                const char *arguments, size_t arguments_size, char **results,
                                size_t *results_size);

#undef PROXY_WASM_ABI_0_1_0_ONLY

#else // PROXY_WASM_NULL_VM

#include "null_plugin.h"

namespace proxy_wasm_null_vm {

// What the hostcall shims need of the instance being called: its host table. The full
// per-instance state (contexts, factories) extends it in proxy_wasm_exports.h.
struct InstanceBase {
  const wasmgate::nullvm::NullVmHostApi *host = nullptr;
};

// The instance the host is currently calling into on this thread (null outside host calls).
// A function-local thread_local in an inline function is one object for the whole program.
inline InstanceBase *&currentInstance() {
  static thread_local InstanceBase *instance = nullptr;
  return instance;
}

inline const wasmgate::nullvm::NullVmHostApi *host() {
  InstanceBase *instance = currentInstance();
  return instance ? instance->host : nullptr;
}

template <typename E> inline uint32_t u32(E e) { return static_cast<uint32_t>(e); }

} // namespace proxy_wasm_null_vm

// No current instance: the plugin called out of a host call (e.g. from a static initializer).
#define PROXY_WASM_NULL_VM_CALL(_fn, ...)                                                          \
  do {                                                                                             \
    const auto *_host = proxy_wasm_null_vm::host();                                                \
    if (_host == nullptr)                                                                          \
      return WasmResult::InternalFailure;                                                          \
    if (_host->_fn == nullptr)                                                                     \
      return WasmResult::Unimplemented;                                                            \
    return static_cast<WasmResult>(_host->_fn(__VA_ARGS__));                                       \
  } while (0)

inline WasmResult proxy_get_configuration(const char **ptr, size_t *size) {
  PROXY_WASM_NULL_VM_CALL(proxy_get_configuration, ptr, size);
}
inline WasmResult proxy_get_status(uint32_t *code, const char **ptr, size_t *size) {
  PROXY_WASM_NULL_VM_CALL(proxy_get_status, code, ptr, size);
}
inline WasmResult proxy_log(LogLevel level, const char *message, size_t size) {
  PROXY_WASM_NULL_VM_CALL(proxy_log, proxy_wasm_null_vm::u32(level), message, size);
}
inline WasmResult proxy_get_log_level(LogLevel *level) {
  const auto *h = proxy_wasm_null_vm::host();
  if (h == nullptr)
    return WasmResult::InternalFailure;
  if (h->proxy_get_log_level == nullptr)
    return WasmResult::Unimplemented;
  uint32_t value = 0;
  auto result = static_cast<WasmResult>(h->proxy_get_log_level(&value));
  if (result == WasmResult::Ok)
    *level = static_cast<LogLevel>(value);
  return result;
}
inline WasmResult proxy_set_tick_period_milliseconds(uint32_t period) {
  PROXY_WASM_NULL_VM_CALL(proxy_set_tick_period_milliseconds, period);
}
inline WasmResult proxy_get_current_time_nanoseconds(uint64_t *nanoseconds) {
  PROXY_WASM_NULL_VM_CALL(proxy_get_current_time_nanoseconds, nanoseconds);
}
inline WasmResult proxy_get_property(const char *path, size_t path_size, const char **value,
                                     size_t *value_size) {
  PROXY_WASM_NULL_VM_CALL(proxy_get_property, path, path_size, value, value_size);
}
inline WasmResult proxy_set_property(const char *path, size_t path_size, const char *value,
                                     size_t value_size) {
  PROXY_WASM_NULL_VM_CALL(proxy_set_property, path, path_size, value, value_size);
}
inline WasmResult proxy_continue_stream(WasmStreamType type) {
  PROXY_WASM_NULL_VM_CALL(proxy_continue_stream, proxy_wasm_null_vm::u32(type));
}
inline WasmResult proxy_close_stream(WasmStreamType type) {
  PROXY_WASM_NULL_VM_CALL(proxy_close_stream, proxy_wasm_null_vm::u32(type));
}
inline WasmResult proxy_continue_request() { PROXY_WASM_NULL_VM_CALL(proxy_continue_request); }
inline WasmResult proxy_continue_response() { PROXY_WASM_NULL_VM_CALL(proxy_continue_response); }
inline WasmResult proxy_clear_route_cache() { PROXY_WASM_NULL_VM_CALL(proxy_clear_route_cache); }
inline WasmResult proxy_send_local_response(uint32_t response_code, const char *details,
                                            size_t details_size, const char *body, size_t body_size,
                                            const char *headers, size_t headers_size,
                                            uint32_t grpc_status) {
  PROXY_WASM_NULL_VM_CALL(proxy_send_local_response, response_code, details, details_size, body,
                          body_size, headers, headers_size, grpc_status);
}
inline WasmResult proxy_get_shared_data(const char *key, size_t key_size, const char **value,
                                        size_t *value_size, uint32_t *cas) {
  PROXY_WASM_NULL_VM_CALL(proxy_get_shared_data, key, key_size, value, value_size, cas);
}
inline WasmResult proxy_set_shared_data(const char *key, size_t key_size, const char *value,
                                        size_t value_size, uint32_t cas) {
  PROXY_WASM_NULL_VM_CALL(proxy_set_shared_data, key, key_size, value, value_size, cas);
}
inline WasmResult proxy_register_shared_queue(const char *name, size_t name_size, uint32_t *token) {
  PROXY_WASM_NULL_VM_CALL(proxy_register_shared_queue, name, name_size, token);
}
inline WasmResult proxy_resolve_shared_queue(const char *vm_id, size_t vm_id_size, const char *name,
                                             size_t name_size, uint32_t *token) {
  PROXY_WASM_NULL_VM_CALL(proxy_resolve_shared_queue, vm_id, vm_id_size, name, name_size, token);
}
inline WasmResult proxy_dequeue_shared_queue(uint32_t token, const char **data, size_t *data_size) {
  PROXY_WASM_NULL_VM_CALL(proxy_dequeue_shared_queue, token, data, data_size);
}
inline WasmResult proxy_enqueue_shared_queue(uint32_t token, const char *data, size_t data_size) {
  PROXY_WASM_NULL_VM_CALL(proxy_enqueue_shared_queue, token, data, data_size);
}
inline WasmResult proxy_add_header_map_value(WasmHeaderMapType type, const char *key,
                                             size_t key_size, const char *value,
                                             size_t value_size) {
  PROXY_WASM_NULL_VM_CALL(proxy_add_header_map_value, proxy_wasm_null_vm::u32(type), key, key_size,
                          value, value_size);
}
inline WasmResult proxy_get_header_map_value(WasmHeaderMapType type, const char *key,
                                             size_t key_size, const char **value,
                                             size_t *value_size) {
  PROXY_WASM_NULL_VM_CALL(proxy_get_header_map_value, proxy_wasm_null_vm::u32(type), key, key_size,
                          value, value_size);
}
inline WasmResult proxy_get_header_map_pairs(WasmHeaderMapType type, const char **ptr,
                                             size_t *size) {
  PROXY_WASM_NULL_VM_CALL(proxy_get_header_map_pairs, proxy_wasm_null_vm::u32(type), ptr, size);
}
inline WasmResult proxy_set_header_map_pairs(WasmHeaderMapType type, const char *ptr, size_t size) {
  PROXY_WASM_NULL_VM_CALL(proxy_set_header_map_pairs, proxy_wasm_null_vm::u32(type), ptr, size);
}
inline WasmResult proxy_replace_header_map_value(WasmHeaderMapType type, const char *key,
                                                 size_t key_size, const char *value,
                                                 size_t value_size) {
  PROXY_WASM_NULL_VM_CALL(proxy_replace_header_map_value, proxy_wasm_null_vm::u32(type), key,
                          key_size, value, value_size);
}
inline WasmResult proxy_remove_header_map_value(WasmHeaderMapType type, const char *key,
                                                size_t key_size) {
  PROXY_WASM_NULL_VM_CALL(proxy_remove_header_map_value, proxy_wasm_null_vm::u32(type), key,
                          key_size);
}
inline WasmResult proxy_get_header_map_size(WasmHeaderMapType type, size_t *size) {
  PROXY_WASM_NULL_VM_CALL(proxy_get_header_map_size, proxy_wasm_null_vm::u32(type), size);
}
inline WasmResult proxy_get_buffer_bytes(WasmBufferType type, uint32_t start, uint32_t length,
                                         const char **ptr, size_t *size) {
  PROXY_WASM_NULL_VM_CALL(proxy_get_buffer_bytes, proxy_wasm_null_vm::u32(type), start, length, ptr,
                          size);
}
inline WasmResult proxy_get_buffer_status(WasmBufferType type, size_t *length, uint32_t *flags) {
  PROXY_WASM_NULL_VM_CALL(proxy_get_buffer_status, proxy_wasm_null_vm::u32(type), length, flags);
}
inline WasmResult proxy_set_buffer_bytes(WasmBufferType type, uint32_t start, uint32_t length,
                                         const char *ptr, size_t size) {
  PROXY_WASM_NULL_VM_CALL(proxy_set_buffer_bytes, proxy_wasm_null_vm::u32(type), start, length, ptr,
                          size);
}
inline WasmResult proxy_http_call(const char *uri, size_t uri_size, void *headers,
                                  size_t headers_size, const char *body, size_t body_size,
                                  void *trailers, size_t trailers_size, uint32_t timeout_ms,
                                  uint32_t *token) {
  PROXY_WASM_NULL_VM_CALL(proxy_http_call, uri, uri_size, static_cast<const char *>(headers),
                          headers_size, body, body_size, static_cast<const char *>(trailers),
                          trailers_size, timeout_ms, token);
}
inline WasmResult proxy_grpc_call(const char *service, size_t service_size,
                                  const char *service_name, size_t service_name_size,
                                  const char *method_name, size_t method_name_size,
                                  void *initial_metadata, size_t initial_metadata_size,
                                  const char *request, size_t request_size, uint32_t timeout_ms,
                                  uint32_t *token) {
  PROXY_WASM_NULL_VM_CALL(proxy_grpc_call, service, service_size, service_name, service_name_size,
                          method_name, method_name_size,
                          static_cast<const char *>(initial_metadata), initial_metadata_size,
                          request, request_size, timeout_ms, token);
}
inline WasmResult proxy_grpc_stream(const char *service, size_t service_size,
                                    const char *service_name, size_t service_name_size,
                                    const char *method_name, size_t method_name_size,
                                    void *initial_metadata, size_t initial_metadata_size,
                                    uint32_t *token) {
  PROXY_WASM_NULL_VM_CALL(
      proxy_grpc_stream, service, service_size, service_name, service_name_size, method_name,
      method_name_size, static_cast<const char *>(initial_metadata), initial_metadata_size, token);
}
inline WasmResult proxy_grpc_cancel(uint32_t token) {
  PROXY_WASM_NULL_VM_CALL(proxy_grpc_cancel, token);
}
inline WasmResult proxy_grpc_close(uint32_t token) {
  PROXY_WASM_NULL_VM_CALL(proxy_grpc_close, token);
}
inline WasmResult proxy_grpc_send(uint32_t token, const char *message, size_t message_size,
                                  uint32_t end_stream) {
  PROXY_WASM_NULL_VM_CALL(proxy_grpc_send, token, message, message_size, end_stream);
}
inline WasmResult proxy_define_metric(MetricType type, const char *name, size_t name_size,
                                      uint32_t *metric_id) {
  PROXY_WASM_NULL_VM_CALL(proxy_define_metric, proxy_wasm_null_vm::u32(type), name, name_size,
                          metric_id);
}
inline WasmResult proxy_increment_metric(uint32_t metric_id, int64_t offset) {
  PROXY_WASM_NULL_VM_CALL(proxy_increment_metric, metric_id, offset);
}
inline WasmResult proxy_record_metric(uint32_t metric_id, uint64_t value) {
  PROXY_WASM_NULL_VM_CALL(proxy_record_metric, metric_id, value);
}
inline WasmResult proxy_get_metric(uint32_t metric_id, uint64_t *value) {
  PROXY_WASM_NULL_VM_CALL(proxy_get_metric, metric_id, value);
}
inline WasmResult proxy_set_effective_context(uint32_t context_id) {
  PROXY_WASM_NULL_VM_CALL(proxy_set_effective_context, context_id);
}
inline WasmResult proxy_done() { PROXY_WASM_NULL_VM_CALL(proxy_done); }
inline WasmResult proxy_call_foreign_function(const char *name, size_t name_size,
                                              const char *arguments, size_t arguments_size,
                                              char **results, size_t *results_size) {
  PROXY_WASM_NULL_VM_CALL(proxy_call_foreign_function, name, name_size, arguments, arguments_size,
                          results, results_size);
}

#undef PROXY_WASM_NULL_VM_CALL

#endif // PROXY_WASM_NULL_VM
