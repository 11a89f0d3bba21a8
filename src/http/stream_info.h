#pragma once

// What is known about one HTTP stream (or TCP connection) for access logs, stats and, later,
// Proxy-Wasm properties. Filled in by the connection manager and the router as the stream runs.

#include <chrono>
#include <map>
#include <cstdint>
#include <optional>
#include <string>

#include "http/header_map.h"

namespace wasmgate::http {

// Envoy's response flags, rendered by %RESPONSE_FLAGS% as their short codes.
enum ResponseFlag : uint32_t {
  FailedLocalHealthCheck = 1u << 0,    // LH
  NoHealthyUpstream = 1u << 1,         // UH
  UpstreamRequestTimeout = 1u << 2,    // UT
  LocalReset = 1u << 3,                // LR
  UpstreamRemoteReset = 1u << 4,       // UR
  UpstreamConnectionFailure = 1u << 5, // UF
  UpstreamConnectionTermination = 1u << 6, // UC
  UpstreamOverflow = 1u << 7,          // UO
  NoRouteFound = 1u << 8,              // NR
  DelayInjected = 1u << 9,             // DI
  FaultInjected = 1u << 10,            // FI
  RateLimited = 1u << 11,              // RL
  DownstreamConnectionTermination = 1u << 12, // DC
  UpstreamRetryLimitExceeded = 1u << 13, // URX
  StreamIdleTimeout = 1u << 14,        // SI
  DownstreamProtocolError = 1u << 15,  // DPE
  UpstreamProtocolError = 1u << 16,    // UPE
  NoClusterFound = 1u << 17,           // NC
  DurationTimeout = 1u << 18,          // DT
  UnauthorizedExternalService = 1u << 19, // UAEX
};

struct StreamInfo {
  std::chrono::system_clock::time_point start_time;
  std::chrono::steady_clock::time_point start_steady;
  std::optional<std::chrono::steady_clock::time_point> end_steady;
  // First upstream byte of the response, last downstream byte sent.
  std::optional<std::chrono::steady_clock::time_point> first_upstream_rx;
  std::optional<std::chrono::steady_clock::time_point> last_downstream_tx;

  const HeaderMap* request_headers = nullptr;
  const HeaderMap* response_headers = nullptr;
  const HeaderMap* response_trailers = nullptr;

  std::string protocol = "HTTP/1.1";
  uint32_t response_code = 0; // 0 until a response started
  std::string response_code_details;
  uint32_t response_flags = 0;
  uint64_t bytes_received = 0; // request body bytes
  uint64_t bytes_sent = 0;     // response body bytes

  std::string downstream_remote_address; // "ip:port"
  std::string downstream_local_address;
  std::string downstream_direct_remote_address;
  std::string upstream_host;             // "ip:port" of the chosen endpoint, empty if none
  std::string upstream_cluster;
  std::string upstream_local_address;
  std::string upstream_transport_failure_reason;
  std::string route_name;
  uint32_t upstream_service_time_ms = 0; // x-envoy-upstream-service-time when known
  uint64_t connection_id = 0;
  uint32_t attempt_count = 0;

  // Values filters publish for later filters and the access log (Envoy's filter state, string
  // values only). Wasm plugins write "wasm.<name>" with proxy_set_property.
  std::map<std::string, std::string, std::less<>> filter_state;

  void setFlag(ResponseFlag f) { response_flags |= f; }
  bool hasFlag(ResponseFlag f) const { return (response_flags & f) != 0; }
  std::chrono::milliseconds duration() const {
    auto end = end_steady.value_or(std::chrono::steady_clock::now());
    return std::chrono::duration_cast<std::chrono::milliseconds>(end - start_steady);
  }
};

// "UF,URX" style rendering of the flags ("-" when none).
std::string responseFlagsString(uint32_t flags);

} // namespace wasmgate::http
