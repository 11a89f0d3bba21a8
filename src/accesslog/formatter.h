#pragma once

// Envoy access log format strings ("%REQ(:METHOD)% %RESPONSE_CODE% ...") and format
// dictionaries (json_format). A format is parsed once at config time into literal and operator
// pieces; format() then only appends to the caller's buffer.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/stream_info.h"

namespace wasmgate::accesslog {

// Envoy's default format, used when the config gives none.
inline constexpr std::string_view kDefaultFormat =
    "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
    "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
    "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
    "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n";

namespace detail {

enum class Op : uint8_t {
  Literal,
  StartTime,
  RequestHeader,
  RequestHeaderWithoutQuery,
  ResponseHeader,
  ResponseTrailer,
  ResponseCode,
  ResponseCodeDetails,
  ResponseFlags,
  BytesReceived,
  BytesSent,
  Duration,
  RequestDuration,
  ResponseDuration,
  ResponseTxDuration,
  UpstreamHost,
  UpstreamCluster,
  UpstreamLocalAddress,
  UpstreamLocalAddressWithoutPort,
  UpstreamTransportFailureReason,
  DownstreamRemoteAddress,
  DownstreamRemoteAddressWithoutPort,
  DownstreamLocalAddress,
  DownstreamLocalAddressWithoutPort,
  DownstreamDirectRemoteAddress,
  DownstreamDirectRemoteAddressWithoutPort,
  Protocol,
  RouteName,
  ConnectionId,
  UpstreamRequestAttemptCount,
  Hostname,
  FilterState,
};

// One compiled piece of a custom START_TIME format.
struct TimePart {
  enum class Kind : uint8_t { Strftime, Fraction, EpochSeconds, SecondsWithFraction };
  Kind kind = Kind::Strftime;
  std::string text; // strftime format for Kind::Strftime
  int digits = 0;   // fractional digits for Fraction / SecondsWithFraction
};

struct Piece {
  Op op = Op::Literal;
  std::string text;                // literal text, main header name, or hostname
  std::string alt;                 // alternative header name ("" = none); FILTER_STATE: "PLAIN" or 
  std::optional<size_t> max_length; // ":N" truncation (header operators)
  std::vector<TimePart> time;      // custom START_TIME format; empty = Envoy's default
};

} // namespace detail

class Formatter {
public:
  // Errors: "unsupported access log operator '%FOO%'", or a message naming the bad operator
  // or the position of a '%' that does not start one. The caller prefixes the config path.
  static Result<Formatter> parse(std::string_view format);
  // Formatter for kDefaultFormat.
  static Formatter defaultFormatter();

  // Appends one rendered line; missing values render as "-".
  void format(const http::StreamInfo& info, std::string& out) const;
  std::string format(const http::StreamInfo& info) const {
    std::string out;
    format(info, out);
    return out;
  }

  // For JsonFormatter: a value that is exactly one operator keeps its type.
  const std::vector<detail::Piece>& pieces() const { return pieces_; }

private:
  Formatter() = default;
  std::vector<detail::Piece> pieces_;
};

// Envoy's json_format: one JSON object per line, keys in map (sorted) order. A value that is
// exactly one operator is typed as Envoy does: a number for numeric operators (RESPONSE_CODE,
// DURATION, BYTES_*, ...), null when the value is unknown, else a string. Other values are
// strings with "-" for unknown parts.
class JsonFormatter {
public:
  // Errors are prefixed with "json_format field '<key>': ".
  static Result<JsonFormatter> parse(const std::map<std::string, std::string>& fields);

  void format(const http::StreamInfo& info, std::string& out) const;
  std::string format(const http::StreamInfo& info) const {
    std::string out;
    format(info, out);
    return out;
  }

private:
  JsonFormatter() = default;
  struct Field {
    std::string json_key; // already quoted and escaped, with the trailing ':'
    Formatter formatter;
  };
  std::vector<Field> fields_;
};

} // namespace wasmgate::accesslog
