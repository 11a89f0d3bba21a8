#include "accesslog/formatter.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <climits>
#include <ctime>

namespace wasmgate::accesslog {

using detail::Op;
using detail::Piece;
using detail::TimePart;

namespace {

// ---- parsing --------------------------------------------------------------------------------

enum class Args : uint8_t { None, Required, Optional };

struct OpSpec {
  std::string_view name;
  Op op;
  Args args;
  bool length_allowed;
};

constexpr OpSpec kOps[] = {
    {"START_TIME", Op::StartTime, Args::Optional, false},
    {"REQ", Op::RequestHeader, Args::Required, true},
    {"REQUEST_HEADER", Op::RequestHeader, Args::Required, true},
    {"REQ_WITHOUT_QUERY", Op::RequestHeaderWithoutQuery, Args::Required, true},
    {"RESP", Op::ResponseHeader, Args::Required, true},
    {"RESPONSE_HEADER", Op::ResponseHeader, Args::Required, true},
    {"TRAILER", Op::ResponseTrailer, Args::Required, true},
    {"RESPONSE_TRAILER", Op::ResponseTrailer, Args::Required, true},
    {"RESPONSE_CODE", Op::ResponseCode, Args::None, false},
    {"RESPONSE_CODE_DETAILS", Op::ResponseCodeDetails, Args::None, false},
    {"RESPONSE_FLAGS", Op::ResponseFlags, Args::None, false},
    {"BYTES_RECEIVED", Op::BytesReceived, Args::None, false},
    {"BYTES_SENT", Op::BytesSent, Args::None, false},
    {"DURATION", Op::Duration, Args::None, false},
    {"REQUEST_DURATION", Op::RequestDuration, Args::None, false},
    {"RESPONSE_DURATION", Op::ResponseDuration, Args::None, false},
    {"RESPONSE_TX_DURATION", Op::ResponseTxDuration, Args::None, false},
    {"UPSTREAM_HOST", Op::UpstreamHost, Args::None, false},
    {"UPSTREAM_REMOTE_ADDRESS", Op::UpstreamHost, Args::None, false},
    {"UPSTREAM_CLUSTER", Op::UpstreamCluster, Args::None, false},
    {"UPSTREAM_LOCAL_ADDRESS", Op::UpstreamLocalAddress, Args::None, false},
    {"UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT", Op::UpstreamLocalAddressWithoutPort, Args::None,
     false},
    {"UPSTREAM_TRANSPORT_FAILURE_REASON", Op::UpstreamTransportFailureReason, Args::None, false},
    {"DOWNSTREAM_REMOTE_ADDRESS", Op::DownstreamRemoteAddress, Args::None, false},
    {"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", Op::DownstreamRemoteAddressWithoutPort, Args::None,
     false},
    {"DOWNSTREAM_LOCAL_ADDRESS", Op::DownstreamLocalAddress, Args::None, false},
    {"DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT", Op::DownstreamLocalAddressWithoutPort, Args::None,
     false},
    {"DOWNSTREAM_DIRECT_REMOTE_ADDRESS", Op::DownstreamDirectRemoteAddress, Args::None, false},
    {"DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT", Op::DownstreamDirectRemoteAddressWithoutPort,
     Args::None, false},
    {"PROTOCOL", Op::Protocol, Args::None, false},
    {"ROUTE_NAME", Op::RouteName, Args::None, false},
    {"CONNECTION_ID", Op::ConnectionId, Args::None, false},
    {"UPSTREAM_REQUEST_ATTEMPT_COUNT", Op::UpstreamRequestAttemptCount, Args::None, false},
    {"HOSTNAME", Op::Hostname, Args::None, false},
    {"FILTER_STATE", Op::FilterState, Args::Required, true},
};

const OpSpec* findOp(std::string_view name) {
  for (const OpSpec& spec : kOps)
    if (spec.name == name)
      return &spec;
  return nullptr;
}

// Operators whose value is a number in json_format (Envoy's typed values).
bool isNumeric(Op op) {
  switch (op) {
  case Op::ResponseCode:
  case Op::BytesReceived:
  case Op::BytesSent:
  case Op::Duration:
  case Op::RequestDuration:
  case Op::ResponseDuration:
  case Op::ResponseTxDuration:
  case Op::ConnectionId:
  case Op::UpstreamRequestAttemptCount:
    return true;
  default:
    return false;
  }
}

bool isOperatorChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

std::string badPercent(size_t pos) {
  return "'%' at position " + std::to_string(pos) +
         " does not start a valid access log operator (use '%%' for a literal '%')";
}

// Splits a custom START_TIME format into strftime runs and the specifiers strftime lacks:
// %f / %1f..%9f (fractional seconds, 9 digits by default), %s (epoch seconds) and absl's
// %E<n>S (seconds with n fractional digits).
std::vector<TimePart> compileTimeFormat(std::string_view f) {
  std::vector<TimePart> parts;
  std::string run;
  auto flush = [&] {
    if (!run.empty())
      parts.push_back({TimePart::Kind::Strftime, std::move(run), 0});
    run.clear();
  };
  size_t i = 0;
  while (i < f.size()) {
    if (f[i] != '%') {
      run.push_back(f[i++]);
      continue;
    }
    if (i + 1 >= f.size()) { // a lone trailing '%' is literal
      run.append("%%");
      ++i;
      continue;
    }
    const char d = f[i + 1];
    if (d == 'f') {
      flush();
      parts.push_back({TimePart::Kind::Fraction, "", 9});
      i += 2;
    } else if (d >= '1' && d <= '9' && i + 2 < f.size() && f[i + 2] == 'f') {
      flush();
      parts.push_back({TimePart::Kind::Fraction, "", d - '0'});
      i += 3;
    } else if (d == 's') {
      flush();
      parts.push_back({TimePart::Kind::EpochSeconds, "", 0});
      i += 2;
    } else if (d == 'E' && i + 3 < f.size() && isDigit(f[i + 2]) && f[i + 3] == 'S') {
      flush();
      parts.push_back({TimePart::Kind::SecondsWithFraction, "", f[i + 2] - '0'});
      i += 4;
    } else {
      run.push_back('%');
      run.push_back(d);
      i += 2;
    }
  }
  flush();
  return parts;
}

std::string hostname() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0)
    return "";
  return buf;
}

Result<Piece> makePiece(std::string_view name, std::optional<std::string_view> args,
                        std::optional<size_t> max_length, std::string_view token) {
  const OpSpec* spec = findOp(name);
  if (!spec)
    return Status::error("unsupported access log operator '" + std::string(token) + "'");
  const std::string quoted = "'" + std::string(token) + "'";
  if (spec->args == Args::None && args)
    return Status::error("access log operator " + quoted + " does not take parameters");
  if (spec->args == Args::Required && (!args || args->empty()))
    return Status::error("access log operator " + quoted + " needs a parameter");
  if (max_length && !spec->length_allowed)
    return Status::error("access log operator " + quoted + " does not take a length limit");

  Piece p;
  p.op = spec->op;
  p.max_length = max_length;
  switch (spec->op) {
  case Op::StartTime:
    if (args && !args->empty())
      p.time = compileTimeFormat(*args);
    break;
  case Op::RequestHeader:
  case Op::RequestHeaderWithoutQuery:
  case Op::ResponseHeader:
  case Op::ResponseTrailer: {
    const std::string_view a = *args;
    const size_t q = a.find('?');
    std::string_view main = a.substr(0, q);
    std::string_view alt = q == std::string_view::npos ? std::string_view() : a.substr(q + 1);
    if (alt.find('?') != std::string_view::npos)
      return Status::error("more than 1 alternative header in access log operator " + quoted);
    if (main.empty() || (q != std::string_view::npos && alt.empty()))
      return Status::error("empty header name in access log operator " + quoted);
    if (a.find_first_of("\r\n") != std::string_view::npos)
      return Status::error("header name with a newline in access log operator " + quoted);
    p.text = http::toLower(main);
    p.alt = http::toLower(alt);
    break;
  }
  case Op::Hostname:
    p.text = hostname();
    break;
  case Op::FilterState: {
    // KEY, KEY:PLAIN or KEY:TYPED. Values are strings: TYPED (the default) renders them as a
    // JSON string, PLAIN as is.
    std::string_view key = *args;
    const size_t colon = key.rfind(':');
    if (colon != std::string_view::npos) {
      const std::string_view format = key.substr(colon + 1);
      if (format != "PLAIN" && format != "TYPED")
        return Status::error("invalid serialization format '" + std::string(format) +
                             "' in access log operator " + quoted + " (PLAIN or TYPED)");
      p.alt = format == "PLAIN" ? "PLAIN" : "";
      key = key.substr(0, colon);
    }
    if (key.empty())
      return Status::error("empty key in access log operator " + quoted);
    p.text = std::string(key);
    break;
  }
  default:
    break;
  }
  return p;
}

// ---- rendering ------------------------------------------------------------------------------

enum class Kind : uint8_t { Missing, String, Number };

void appendUint(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

void appendPadded(std::string& out, uint64_t v, int width) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  for (int n = int(r.ptr - buf); n < width; ++n)
    out.push_back('0');
  out.append(buf, r.ptr);
}

// Fractional digits are truncated, not rounded, as Envoy does.
void appendFraction(std::string& out, int64_t nanos, int digits) {
  uint64_t v = uint64_t(nanos);
  for (int i = digits; i < 9; ++i)
    v /= 10;
  appendPadded(out, v, digits);
}

void appendStrftime(std::string& out, const std::string& fmt, const std::tm& tm) {
  const size_t old = out.size();
  size_t cap = std::max<size_t>(64, fmt.size() * 4);
  for (;;) {
    out.resize(old + cap);
    const size_t n = std::strftime(out.data() + old, cap, fmt.c_str(), &tm);
    // 0 means "did not fit" (or a legitimately empty result): grow a few times, then give up.
    if (n > 0 || cap >= 4096) {
      out.resize(old + n);
      return;
    }
    cap *= 2;
  }
}

void appendStartTime(const Piece& p, std::chrono::system_clock::time_point tp,
                     std::string& out) {
  const int64_t total_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(tp.time_since_epoch()).count();
  int64_t secs = total_ns / 1000000000;
  int64_t nanos = total_ns % 1000000000;
  if (nanos < 0) { // floor for times before the epoch
    nanos += 1000000000;
    --secs;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  ::gmtime_r(&t, &tm);

  if (p.time.empty()) { // %Y-%m-%dT%H:%M:%E3SZ
    appendPadded(out, uint64_t(std::max(0, tm.tm_year + 1900)), 4);
    out.push_back('-');
    appendPadded(out, uint64_t(tm.tm_mon + 1), 2);
    out.push_back('-');
    appendPadded(out, uint64_t(tm.tm_mday), 2);
    out.push_back('T');
    appendPadded(out, uint64_t(tm.tm_hour), 2);
    out.push_back(':');
    appendPadded(out, uint64_t(tm.tm_min), 2);
    out.push_back(':');
    appendPadded(out, uint64_t(tm.tm_sec), 2);
    out.push_back('.');
    appendFraction(out, nanos, 3);
    out.push_back('Z');
    return;
  }
  for (const TimePart& part : p.time) {
    switch (part.kind) {
    case TimePart::Kind::Strftime:
      appendStrftime(out, part.text, tm);
      break;
    case TimePart::Kind::Fraction:
      appendFraction(out, nanos, part.digits);
      break;
    case TimePart::Kind::EpochSeconds: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof(buf), secs);
      out.append(buf, r.ptr);
      break;
    }
    case TimePart::Kind::SecondsWithFraction:
      appendPadded(out, uint64_t(tm.tm_sec), 2);
      if (part.digits > 0) {
        out.push_back('.');
        appendFraction(out, nanos, part.digits);
      }
      break;
    }
  }
}

// "1.2.3.4:80" -> "1.2.3.4", "[::1]:80" -> "::1"; anything else unchanged.
std::string_view withoutPort(std::string_view addr) {
  if (!addr.empty() && addr.front() == '[') {
    const size_t close = addr.find(']');
    if (close != std::string_view::npos)
      return addr.substr(1, close - 1);
    return addr;
  }
  const size_t colon = addr.find(':');
  if (colon != std::string_view::npos && addr.find(':', colon + 1) == std::string_view::npos)
    return addr.substr(0, colon);
  return addr;
}

Kind appendString(std::string& out, std::string_view v) {
  if (v.empty())
    return Kind::Missing;
  out.append(v);
  return Kind::String;
}

Kind appendAddress(std::string& out, std::string_view addr, bool strip_port) {
  return appendString(out, strip_port ? withoutPort(addr) : addr);
}

Kind appendNumber(std::string& out, uint64_t v) {
  appendUint(out, v);
  return Kind::Number;
}

Kind appendMillis(std::string& out, std::chrono::steady_clock::duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return appendNumber(out, uint64_t(std::max<int64_t>(0, ms)));
}

Kind appendHeader(const Piece& p, const http::HeaderMap* headers, std::string& out) {
  if (headers == nullptr)
    return Kind::Missing;
  const std::string* v = headers->get(p.text);
  if (v == nullptr && !p.alt.empty())
    v = headers->get(p.alt);
  if (v == nullptr)
    return Kind::Missing;
  std::string_view value = *v;
  if (p.op == Op::RequestHeaderWithoutQuery)
    value = value.substr(0, value.find('?'));
  if (p.max_length)
    value = value.substr(0, *p.max_length);
  out.append(value); // present but empty stays empty, as in Envoy
  return Kind::String;
}

// Appends the raw value of one piece; on Missing nothing is appended.
Kind appendValue(const Piece& p, const http::StreamInfo& info, std::string& out) {
  switch (p.op) {
  case Op::Literal:
    out.append(p.text);
    return Kind::String;
  case Op::StartTime:
    appendStartTime(p, info.start_time, out);
    return Kind::String;
  case Op::RequestHeader:
  case Op::RequestHeaderWithoutQuery:
    return appendHeader(p, info.request_headers, out);
  case Op::ResponseHeader:
    return appendHeader(p, info.response_headers, out);
  case Op::ResponseTrailer:
    return appendHeader(p, info.response_trailers, out);
  case Op::ResponseCode:
    return appendNumber(out, info.response_code);
  case Op::ResponseCodeDetails:
    return appendString(out, info.response_code_details);
  case Op::ResponseFlags:
    // Short enough for the small-string buffer in the common cases.
    out.append(http::responseFlagsString(info.response_flags));
    return Kind::String;
  case Op::BytesReceived:
    return appendNumber(out, info.bytes_received);
  case Op::BytesSent:
    return appendNumber(out, info.bytes_sent);
  case Op::Duration:
    return appendMillis(out, info.end_steady.value_or(std::chrono::steady_clock::now()) -
                                 info.start_steady);
  case Op::RequestDuration:
    return Kind::Missing; // StreamInfo does not record the last request byte
  case Op::ResponseDuration:
    if (!info.first_upstream_rx)
      return Kind::Missing;
    return appendMillis(out, *info.first_upstream_rx - info.start_steady);
  case Op::ResponseTxDuration:
    if (!info.first_upstream_rx || !info.last_downstream_tx)
      return Kind::Missing;
    return appendMillis(out, *info.last_downstream_tx - *info.first_upstream_rx);
  case Op::UpstreamHost:
    return appendString(out, info.upstream_host);
  case Op::UpstreamCluster:
    return appendString(out, info.upstream_cluster);
  case Op::UpstreamLocalAddress:
    return appendAddress(out, info.upstream_local_address, false);
  case Op::UpstreamLocalAddressWithoutPort:
    return appendAddress(out, info.upstream_local_address, true);
  case Op::UpstreamTransportFailureReason:
    return appendString(out, info.upstream_transport_failure_reason);
  case Op::DownstreamRemoteAddress:
    return appendAddress(out, info.downstream_remote_address, false);
  case Op::DownstreamRemoteAddressWithoutPort:
    return appendAddress(out, info.downstream_remote_address, true);
  case Op::DownstreamLocalAddress:
    return appendAddress(out, info.downstream_local_address, false);
  case Op::DownstreamLocalAddressWithoutPort:
    return appendAddress(out, info.downstream_local_address, true);
  case Op::DownstreamDirectRemoteAddress:
    return appendAddress(out, info.downstream_direct_remote_address, false);
  case Op::DownstreamDirectRemoteAddressWithoutPort:
    return appendAddress(out, info.downstream_direct_remote_address, true);
  case Op::Protocol:
    return appendString(out, info.protocol);
  case Op::RouteName:
    return appendString(out, info.route_name);
  case Op::FilterState: {
    auto it = info.filter_state.find(p.text);
    if (it == info.filter_state.end())
      return Kind::Missing;
    std::string_view value = it->second;
    if (p.max_length)
      value = value.substr(0, *p.max_length);
    out.append(value); // the text formatter quotes TYPED values
    return Kind::String;
  }
  case Op::ConnectionId:
    return appendNumber(out, info.connection_id);
  case Op::UpstreamRequestAttemptCount:
    return appendNumber(out, info.attempt_count);
  case Op::Hostname:
    return appendString(out, p.text);
  }
  return Kind::Missing;
}

bool needsJsonEscape(unsigned char c) { return c == '"' || c == '\\' || c < 0x20; }

void appendJsonEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (!needsJsonEscape(c)) {
      out.push_back(ch);
      continue;
    }
    switch (c) {
    case '"': out.append("\\\""); break;
    case '\\': out.append("\\\\"); break;
    case '\n': out.append("\\n"); break;
    case '\r': out.append("\\r"); break;
    case '\t': out.append("\\t"); break;
    case '\b': out.append("\\b"); break;
    case '\f': out.append("\\f"); break;
    default:
      out.append("\\u00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
}

// Escapes out[start..] in place. Values rarely need it, so the copy is only made when they do
// (into a per-thread buffer that keeps its capacity).
void escapeTail(std::string& out, size_t start) {
  auto it = std::find_if(out.begin() + std::ptrdiff_t(start), out.end(),
                         [](char c) { return needsJsonEscape(static_cast<unsigned char>(c)); });
  if (it == out.end())
    return;
  thread_local std::string scratch;
  scratch.assign(out, start);
  out.resize(start);
  appendJsonEscaped(out, scratch);
}

} // namespace

// ---- Formatter ------------------------------------------------------------------------------

Result<Formatter> Formatter::parse(std::string_view fmt) {
  Formatter f;
  std::string literal;
  auto flushLiteral = [&] {
    if (literal.empty())
      return;
    Piece p;
    p.op = Op::Literal;
    p.text = std::move(literal);
    f.pieces_.push_back(std::move(p));
    literal.clear();
  };

  size_t i = 0;
  while (i < fmt.size()) {
    if (fmt[i] != '%') {
      literal.push_back(fmt[i++]);
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '%') {
      literal.push_back('%');
      i += 2;
      continue;
    }
    // %NAME[(args)][:length]%
    size_t j = i + 1;
    if (j >= fmt.size() || fmt[j] < 'A' || fmt[j] > 'Z')
      return Status::error(badPercent(i));
    while (j < fmt.size() && isOperatorChar(fmt[j]))
      ++j;
    const std::string_view name = fmt.substr(i + 1, j - i - 1);
    std::optional<std::string_view> args;
    if (j < fmt.size() && fmt[j] == '(') {
      const size_t close = fmt.find(')', j);
      if (close == std::string_view::npos)
        return Status::error("missing ')' in access log operator starting at position " +
                             std::to_string(i));
      args = fmt.substr(j + 1, close - j - 1);
      j = close + 1;
    }
    std::optional<size_t> max_length;
    if (j < fmt.size() && fmt[j] == ':') {
      size_t k = j + 1;
      size_t len = 0;
      while (k < fmt.size() && isDigit(fmt[k]) && k - j <= 9)
        len = len * 10 + size_t(fmt[k++] - '0');
      if (k == j + 1)
        return Status::error("missing length after ':' in access log operator starting at "
                             "position " + std::to_string(i));
      max_length = len;
      j = k;
    }
    if (j >= fmt.size() || fmt[j] != '%')
      return Status::error(badPercent(i));
    const std::string_view token = fmt.substr(i, j - i + 1);
    auto piece = makePiece(name, args, max_length, token);
    if (!piece)
      return piece.status();
    flushLiteral();
    f.pieces_.push_back(std::move(*piece));
    i = j + 1;
  }
  flushLiteral();
  return f;
}

Formatter Formatter::defaultFormatter() {
  static const Formatter kDefault = std::move(parse(kDefaultFormat).value());
  return kDefault;
}

void Formatter::format(const http::StreamInfo& info, std::string& out) const {
  for (const Piece& p : pieces_) {
    if (p.op == Op::FilterState && p.alt.empty()) {
      // TYPED filter state is its JSON serialization: a quoted, escaped string.
      const size_t before = out.size();
      out.push_back('"');
      const size_t start = out.size();
      if (appendValue(p, info, out) == Kind::Missing) {
        out.resize(before);
        out.push_back('-');
      } else {
        escapeTail(out, start);
        out.push_back('"');
      }
      continue;
    }
    if (appendValue(p, info, out) == Kind::Missing)
      out.push_back('-');
  }
}

// ---- JsonFormatter --------------------------------------------------------------------------

Result<JsonFormatter> JsonFormatter::parse(const std::map<std::string, std::string>& fields) {
  JsonFormatter jf;
  for (const auto& [key, value] : fields) {
    auto f = Formatter::parse(value);
    if (!f)
      return Status::error("json_format field '" + key + "': " + f.error());
    std::string json_key = "\"";
    appendJsonEscaped(json_key, key);
    json_key.append("\":");
    jf.fields_.push_back({std::move(json_key), std::move(*f)});
  }
  return jf;
}

void JsonFormatter::format(const http::StreamInfo& info, std::string& out) const {
  out.push_back('{');
  bool first = true;
  for (const Field& field : fields_) {
    if (!first)
      out.push_back(',');
    first = false;
    out.append(field.json_key);
    const auto& pieces = field.formatter.pieces();

    if (pieces.size() == 1 && pieces[0].op != Op::Literal) {
      // A lone operator keeps its type: number, string, or null when unknown.
      const Piece& p = pieces[0];
      const size_t before = out.size();
      if (!isNumeric(p.op))
        out.push_back('"');
      const size_t start = out.size();
      const Kind kind = appendValue(p, info, out);
      if (kind == Kind::Missing) {
        out.resize(before);
        out.append("null");
      } else if (kind == Kind::String) {
        escapeTail(out, start);
        out.push_back('"');
      }
      continue;
    }

    out.push_back('"');
    for (const Piece& p : pieces) {
      const size_t start = out.size();
      if (appendValue(p, info, out) == Kind::Missing)
        out.push_back('-');
      else
        escapeTail(out, start);
    }
    out.push_back('"');
  }
  out.append("}\n");
}

} // namespace wasmgate::accesslog
