// wasmgate C++ plugin SDK (source-compatible with proxy-wasm-cpp-sdk).
//
// Callback result types and other enums that cross the Proxy-Wasm ABI. The numeric values are
// normative (see proxy-wasm-abi.md section 3); tests/abi_values_test.cc pins every one of them.
// NOLINT(namespace-envoy)
#pragma once

#include <cstdint>

enum class LogLevel : int32_t { trace, debug, info, warn, error, critical, Max = critical };

// TCP (network filter) callbacks.
enum class FilterStatus : int32_t { Continue = 0, StopIteration = 1 };

enum class FilterHeadersStatus : int32_t {
  Continue = 0,
  StopIteration = 1, // Envoy upgrades this to StopAllIterationAndWatermark by default
  ContinueAndEndStream = 2,
  StopAllIterationAndBuffer = 3,
  StopAllIterationAndWatermark = 4,
};

enum class FilterMetadataStatus : int32_t { Continue = 0 };

enum class FilterTrailersStatus : int32_t { Continue = 0, StopIteration = 1 };

enum class FilterDataStatus : int32_t {
  Continue = 0,
  StopIterationAndBuffer = 1,
  StopIterationAndWatermark = 2,
  StopIterationNoBuffer = 3
};

enum class GrpcStatus : int32_t {
  Ok = 0,
  Canceled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
  MaximumValid = Unauthenticated,
  InvalidCode = -1 // sent as 0xFFFFFFFF: "not a gRPC reply"
};

enum class MetricType : int32_t {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
  Max = 2,
};

// proxy_peer_type_t. The C++ SDK calls it CloseType; PeerType is the spec's name.
enum class CloseType : int32_t {
  Unknown = 0,
  Local = 1,  // Close initiated by the proxy.
  Remote = 2, // Close initiated by the peer.
};
using PeerType = CloseType;
