// wasmgate C++ plugin SDK (source-compatible with proxy-wasm-cpp-sdk).
//
// Status codes and the map/buffer/stream selectors shared by plugin and host.
// NOLINT(namespace-envoy)
#pragma once

#include <cstdint>
#include <string>

enum class WasmResult : uint32_t {
  Ok = 0,
  // The result could not be found, e.g. a provided key did not appear in a table.
  NotFound = 1,
  // An argument was bad, e.g. did not conform to the required range.
  BadArgument = 2,
  // A protobuf could not be serialized.
  SerializationFailure = 3,
  // A protobuf could not be parsed.
  ParseFailure = 4,
  // A provided expression (e.g. "foo.bar") was illegal or unrecognized.
  BadExpression = 5,
  // A provided memory range was not legal.
  InvalidMemoryAccess = 6,
  // Data was requested from an empty container.
  Empty = 7,
  // The provided CAS did not match that of the stored data.
  CasMismatch = 8,
  // Returned result was unexpected, e.g. of the incorrect size.
  ResultMismatch = 9,
  // Internal failure: trying check logs of the surrounding system.
  InternalFailure = 10,
  // The connection/stream/pipe was broken/closed unexpectedly.
  BrokenConnection = 11,
  // Feature not implemented.
  Unimplemented = 12,
};

inline std::string toString(WasmResult r) {
  switch (r) {
  case WasmResult::Ok:
    return "Ok";
  case WasmResult::NotFound:
    return "NotFound";
  case WasmResult::BadArgument:
    return "BadArgument";
  case WasmResult::SerializationFailure:
    return "SerializationFailure";
  case WasmResult::ParseFailure:
    return "ParseFailure";
  case WasmResult::BadExpression:
    return "BadExpression";
  case WasmResult::InvalidMemoryAccess:
    return "InvalidMemoryAccess";
  case WasmResult::Empty:
    return "Empty";
  case WasmResult::CasMismatch:
    return "CasMismatch";
  case WasmResult::ResultMismatch:
    return "ResultMismatch";
  case WasmResult::InternalFailure:
    return "InternalFailure";
  case WasmResult::BrokenConnection:
    return "BrokenConnection";
  case WasmResult::Unimplemented:
    return "Unimplemented";
  }
  return "WasmResult(" + std::to_string(static_cast<uint32_t>(r)) + ")";
}

enum class WasmHeaderMapType : int32_t {
  RequestHeaders = 0,              // During the onLog callback these are immutable
  RequestTrailers = 1,             // During the onLog callback these are immutable
  ResponseHeaders = 2,             // During the onLog callback these are immutable
  ResponseTrailers = 3,            // During the onLog callback these are immutable
  GrpcReceiveInitialMetadata = 4,  // Immutable
  GrpcReceiveTrailingMetadata = 5, // Immutable
  HttpCallResponseHeaders = 6,     // Immutable
  HttpCallResponseTrailers = 7,    // Immutable
  MAX = 7,
};

enum class WasmBufferType : int32_t {
  HttpRequestBody = 0,       // During the onLog callback these are immutable
  HttpResponseBody = 1,      // During the onLog callback these are immutable
  NetworkDownstreamData = 2, // During the onLog callback these are immutable
  NetworkUpstreamData = 3,   // During the onLog callback these are immutable
  HttpCallResponseBody = 4,  // Immutable
  GrpcReceiveBuffer = 5,     // Immutable
  VmConfiguration = 6,       // Immutable
  PluginConfiguration = 7,   // Immutable
  CallData = 8,              // Immutable
  MAX = 8,
};
// Older SDK releases spelled the buffer selector BufferType.
using BufferType = WasmBufferType;

enum class WasmBufferFlags : int32_t {
  // These must be powers of 2.
  EndOfStream = 1,
};

enum class WasmStreamType : int32_t {
  Request = 0,
  Response = 1,
  Downstream = 2,
  Upstream = 3,
  MAX = 3,
};
