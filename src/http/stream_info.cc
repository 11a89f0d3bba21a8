#include "http/stream_info.h"

#include <string_view>
#include <utility>

namespace wasmgate::http {

std::string responseFlagsString(uint32_t flags) {
  // Envoy's ResponseFlagUtils order, restricted to the flags this proxy has.
  static constexpr std::pair<ResponseFlag, std::string_view> kCodes[] = {
      {FailedLocalHealthCheck, "LH"},
      {NoHealthyUpstream, "UH"},
      {UpstreamRequestTimeout, "UT"},
      {LocalReset, "LR"},
      {UpstreamRemoteReset, "UR"},
      {UpstreamConnectionFailure, "UF"},
      {UpstreamConnectionTermination, "UC"},
      {UpstreamOverflow, "UO"},
      {NoRouteFound, "NR"},
      {DelayInjected, "DI"},
      {FaultInjected, "FI"},
      {RateLimited, "RL"},
      {UnauthorizedExternalService, "UAEX"},
      {DownstreamConnectionTermination, "DC"},
      {UpstreamRetryLimitExceeded, "URX"},
      {StreamIdleTimeout, "SI"},
      {DownstreamProtocolError, "DPE"},
      {DurationTimeout, "DT"},
      {UpstreamProtocolError, "UPE"},
      {NoClusterFound, "NC"},
  };
  std::string out;
  for (const auto& [flag, code] : kCodes) {
    if ((flags & flag) == 0)
      continue;
    if (!out.empty())
      out.push_back(',');
    out.append(code);
  }
  if (out.empty())
    out = "-";
  return out;
}

} // namespace wasmgate::http
