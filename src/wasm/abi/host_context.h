#pragma once

// The ABI layer's view of the proxy: what a Proxy-Wasm context (root/plugin context or HTTP
// stream context) can do. The embedder (the Wasm HTTP filter, later TCP filters and
// bootstrap services) implements it; the ABI layer (host functions, lifecycle calls) only
// talks to this interface, never to the HTTP filter manager directly.
//
// Every method has a safe default ("not available here"), so a root context implements only
// what roots have, and a stream context only what streams have.

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
};

} // namespace wasmgate::wasm::abi
