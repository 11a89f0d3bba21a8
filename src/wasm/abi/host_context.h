#pragma once

// The ABI layer's view of the proxy: what a Proxy-Wasm context (root/plugin context or HTTP
// stream context) can do. The embedder (the Wasm HTTP filter, later TCP filters and
// bootstrap services) implements it; the ABI layer (host functions, lifecycle calls) only
// talks to this interface, never to the HTTP filter manager directly.
//
// Every method has a safe default ("not available here"), so a root context implements only
// what roots have, and a stream context only what streams have.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/buffer.h"
#include "http/header_map.h"

namespace wasmgate::wasm::abi {

// Numeric values are the ABI's (see ../shared/docs/proxy-wasm-abi.md section 3).
enum class WasmResult : uint32_t {
  Ok = 0,
  NotFound = 1,
  BadArgument = 2,
  SerializationFailure = 3,
  ParseFailure = 4,
  BadExpression = 5,
  InvalidMemoryAccess = 6,
  Empty = 7,
  CasMismatch = 8,
  ResultMismatch = 9,
  InternalFailure = 10,
  BrokenConnection = 11,
  Unimplemented = 12,
};

enum class MapType : uint32_t {
  HttpRequestHeaders = 0,
  HttpRequestTrailers = 1,
  HttpResponseHeaders = 2,
  HttpResponseTrailers = 3,
  GrpcReceiveInitialMetadata = 4,
  GrpcReceiveTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
};
inline constexpr uint32_t kMaxMapType = 7;

enum class BufferType : uint32_t {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  DownstreamData = 2,
  UpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcReceiveBuffer = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  CallData = 8,
};
inline constexpr uint32_t kMaxBufferType = 8;

enum class StreamType : uint32_t { Request = 0, Response = 1, Downstream = 2, Upstream = 3 };

// What a header-map lookup finds.
struct MapRef {
  http::HeaderMap* map = nullptr; // nullptr: not available in this context/phase
  bool writable = false;
};

// What a buffer lookup finds: a mutable body buffer, or read-only bytes (configuration,
// call-response body, foreign-function arguments).
struct BufferRef {
  Buffer* mutable_buffer = nullptr;
  std::optional<std::string_view> read_only;
  bool available() const { return mutable_buffer != nullptr || read_only.has_value(); }
};

class HostContext {
public:
  virtual ~HostContext() = default;

  // The id the guest knows this context by, and its root (plugin) context (itself for roots).
  virtual uint32_t contextId() const = 0;
  virtual HostContext& rootContext() = 0;
  virtual bool isRootContext() const { return &const_cast<HostContext*>(this)->rootContext() == this; }

  // ---- logging (the embedder prefixes the plugin name)
  virtual void log(uint32_t level, std::string_view message) = 0;
  // 0 trace .. 5 critical (6 = off, clamped by the ABI layer for guests).
  virtual uint32_t logLevel() const = 0;

  // ---- header maps and buffers
  virtual MapRef headerMap(MapType) { return {}; }
  // Called after a guest changed a writable map (request headers: re-evaluate the route).
  virtual void onHeaderMapModified(MapType) {}
  // Creates the trailers map when the guest adds trailers from the last body callback
  // (Envoy's addDecodedTrailers/addEncodedTrailers); nullptr if not possible now.
  virtual http::HeaderMap* createTrailers(MapType) { return nullptr; }
  virtual BufferRef buffer(BufferType) { return {}; }

  // ---- stream control (deferred by the embedder until the current guest call returns)
  virtual WasmResult continueStream(StreamType) { return WasmResult::Unimplemented; }
  virtual WasmResult closeStream(StreamType) { return WasmResult::Unimplemented; }
  // headers: additional response headers (lower-cased by the ABI layer). grpc_status: -1 or
  // 0..16. Returns Ok or BadArgument; the reply itself is sent after the guest call returns.
  virtual WasmResult sendLocalResponse(uint32_t status, std::string_view details, std::string_view body,
                                       std::vector<std::pair<std::string, std::string>> headers,
                                       int32_t grpc_status) {
    return WasmResult::Unimplemented;
  }

  // ---- properties (path segments separated by '\0'; trailing '\0' tolerated)
  virtual WasmResult getProperty(std::string_view path, std::string& value) { return WasmResult::NotFound; }
  virtual WasmResult setProperty(std::string_view path, std::string_view value) {
    return WasmResult::NotFound;
  }

  // ---- root-context services (later issues: timers, callouts, queues, metrics)
  virtual WasmResult setTickPeriod(uint32_t period_ms) { return WasmResult::Unimplemented; }
  // A root context answered false from proxy_on_done and now says it has finished.
  virtual WasmResult done() { return WasmResult::NotFound; }
  virtual WasmResult clearRouteCache() { return WasmResult::Unimplemented; }

  // ==== Added by the ABI layer (src/wasm/abi/host_functions*.cc). Defaults are safe: the
  // subsystems behind them (callouts, queues, metrics, shared data, foreign functions) come in
  // later issues and answer Unimplemented until an embedder overrides them.

  // ---- time: proxy_get_current_time_nanoseconds and WASI clock_time_get. Overridable so the
  // embedder can use its dispatcher's time source (and tests a fake one).
  virtual uint64_t realTimeNanoseconds() const {
    return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count());
  }
  virtual uint64_t monotonicTimeNanoseconds() const {
    return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now().time_since_epoch())
                        .count());
  }

  // ---- proxy_get_status (asked of the root context): the status of the last failed
  // callout. Nothing set yet is code 0 with an empty message (the Rust SDK accepts only Ok).
  virtual WasmResult getStatus(uint32_t& code, std::string& message) {
    code = 0;
    message.clear();
    return WasmResult::Ok;
  }

  // ---- proxy_call_foreign_function: NotFound means "no such function" (an empty registry),
  // which the Rust SDK accepts; Unimplemented would make it panic.
  virtual WasmResult callForeignFunction(std::string_view name, std::string_view arguments,
                                         std::string& result) {
    return WasmResult::NotFound;
  }

  // ---- shared data (per vm_id, see the ABI doc 7.1)
  virtual WasmResult getSharedData(std::string_view key, std::string& value, uint32_t& cas) {
    return WasmResult::Unimplemented;
  }
  virtual WasmResult setSharedData(std::string_view key, std::string_view value, uint32_t cas) {
    return WasmResult::Unimplemented;
  }

  // ---- shared queues (7.2). registerSharedQueue is asked of the root context.
  virtual WasmResult registerSharedQueue(std::string_view name, uint32_t& token) {
    return WasmResult::Unimplemented;
  }
  virtual WasmResult resolveSharedQueue(std::string_view vm_id, std::string_view name,
                                        uint32_t& token) {
    return WasmResult::Unimplemented;
  }
  virtual WasmResult enqueueSharedQueue(uint32_t token, std::string_view value) {
    return WasmResult::Unimplemented;
  }
  virtual WasmResult dequeueSharedQueue(uint32_t token, std::string& value) {
    return WasmResult::Unimplemented;
  }

  // ---- metrics (7.3). `type` is already checked to be 0..2.
  virtual WasmResult defineMetric(uint32_t type, std::string_view name, uint32_t& metric_id) {
    return WasmResult::Unimplemented;
  }
  virtual WasmResult incrementMetric(uint32_t metric_id, int64_t offset) {
    return WasmResult::Unimplemented;
  }
  virtual WasmResult recordMetric(uint32_t metric_id, uint64_t value) {
    return WasmResult::Unimplemented;
  }
  virtual WasmResult getMetric(uint32_t metric_id, uint64_t& value) {
    return WasmResult::Unimplemented;
  }

  // ---- callouts, asked of the root context (7.5, 7.6, 7.7). Header/metadata keys arrive
  // lower-cased; httpCall's timeout_ms is already checked to be < 2^31 (0 = none).
  virtual WasmResult httpCall(std::string_view cluster,
                              std::vector<std::pair<std::string, std::string>> headers,
                              std::string_view body,
                              std::vector<std::pair<std::string, std::string>> trailers,
                              uint32_t timeout_ms, uint32_t& token) {
    return WasmResult::Unimplemented;
  }
  virtual WasmResult grpcCall(std::string_view service, std::string_view service_name,
                              std::string_view method_name,
                              std::vector<std::pair<std::string, std::string>> initial_metadata,
                              std::string_view message, uint32_t timeout_ms, uint32_t& token) {
    return WasmResult::Unimplemented;
  }
  virtual WasmResult grpcStream(std::string_view service, std::string_view service_name,
                                std::string_view method_name,
                                std::vector<std::pair<std::string, std::string>> initial_metadata,
                                uint32_t& token) {
    return WasmResult::Unimplemented;
  }
  virtual WasmResult grpcSend(uint32_t token, std::string_view message, bool end_stream) {
    return WasmResult::Unimplemented;
  }
  virtual WasmResult grpcCancel(uint32_t token) { return WasmResult::Unimplemented; }
  virtual WasmResult grpcClose(uint32_t token) { return WasmResult::Unimplemented; }
  // Envoy's envoy_resolve_dns; the answer goes to envoy_on_resolve_dns on the root context.
  virtual WasmResult resolveDns(std::string_view address, uint32_t& token) {
    return WasmResult::Unimplemented;
  }
};

} // namespace wasmgate::wasm::abi
