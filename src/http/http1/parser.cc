#include "http/http1/parser.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <limits>

namespace wasmgate::http::http1 {

namespace {

// Character classes, one bit each, looked up in a 256-entry table (no branches per class).
enum : uint8_t {
  kTchar = 1 << 0,      // RFC 9110 token character
  kFieldValue = 1 << 1, // HTAB, SP, VCHAR, obs-text
  kTarget = 1 << 2,     // request-target: VCHAR and obs-text (no CTL, SP, DEL)
  kQdText = 1 << 3,     // quoted-string text: HTAB, SP, VCHAR except '"' and '\', obs-text
  kHex = 1 << 4,
};

constexpr std::array<uint8_t, 256> makeCharTable() {
  std::array<uint8_t, 256> t{};
  constexpr std::string_view tchar_symbols = "!#$%&'*+-.^_`|~";
  for (int c = 0; c < 256; ++c) {
    uint8_t f = 0;
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    const bool vchar = c >= 0x21 && c <= 0x7e;
    const bool obs_text = c >= 0x80;
    if (alpha || digit || tchar_symbols.find(char(c)) != std::string_view::npos)
      f |= kTchar;
    if (c == '\t' || c == ' ' || vchar || obs_text)
      f |= kFieldValue;
    if (vchar || obs_text)
      f |= kTarget;
    if ((c == '\t' || c == ' ' || vchar || obs_text) && c != '"' && c != '\\')
      f |= kQdText;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
      f |= kHex;
    t[size_t(c)] = f;
  }
  return t;
}

constexpr std::array<uint8_t, 256> kCharTable = makeCharTable();

inline bool is(char c, uint8_t cls) { return (kCharTable[uint8_t(c)] & cls) != 0; }
inline bool isWs(char c) { return c == ' ' || c == '\t'; }
inline bool isDigit(char c) { return c >= '0' && c <= '9'; }
inline uint8_t hexValue(char c) {
  if (c <= '9')
    return uint8_t(c - '0');
  return uint8_t(asciiLower(c) - 'a' + 10);
}

constexpr size_t kNpos = std::string_view::npos;
constexpr uint64_t kMaxBodySize = uint64_t(std::numeric_limits<int64_t>::max());
// Leading CRLFs tolerated before a start line (RFC 9112 2.2: "at least one").
constexpr uint32_t kMaxLeadingEmptyLines = 8;
// A chunk-size line with extensions is not buffered, but bound it so a peer can't stream an
// endless extension.
constexpr size_t kMaxChunkLineBytes = 4096;

enum FieldKind : uint8_t { Other, Host, ContentLength, TransferEncoding, Connection, Expect, Upgrade };

FieldKind classify(std::string_view name) {
  // Switch on length first so most headers cost one comparison at most.
  switch (name.size()) {
  case 4:
    return equalsIgnoreCase(name, "host") ? Host : Other;
  case 6:
    return equalsIgnoreCase(name, "expect") ? Expect : Other;
  case 7:
    return equalsIgnoreCase(name, "upgrade") ? Upgrade : Other;
  case 10:
    return equalsIgnoreCase(name, "connection") ? Connection : Other;
  case 14:
    return equalsIgnoreCase(name, "content-length") ? ContentLength : Other;
  case 17:
    return equalsIgnoreCase(name, "transfer-encoding") ? TransferEncoding : Other;
  default:
    return Other;
  }
}

std::string_view trimWs(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && isWs(s[b]))
    ++b;
  while (e > b && isWs(s[e - 1]))
    --e;
  return s.substr(b, e - b);
}

// Calls f(element) for each comma-separated element, trimmed of OWS (elements may be empty).
// Stops and returns false as soon as f does.
template <class F> bool forEachListElement(std::string_view value, F&& f) {
  size_t start = 0;
  while (true) {
    size_t comma = value.find(',', start);
    std::string_view elem = trimWs(value.substr(start, comma == kNpos ? kNpos : comma - start));
    if (!f(elem))
      return false;
    if (comma == kNpos)
      return true;
    start = comma + 1;
  }
}

// For error details: at most 64 bytes, non-printable bytes escaped.
std::string printable(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  const size_t n = std::min<size_t>(s.size(), 64);
  out.reserve(n + 3);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(char(c));
    } else {
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  if (s.size() > n)
    out += "...";
  return out;
}

std::string lowerString(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = asciiLower(c);
  return out;
}

// "HTTP/" 1*DIGIT "." 1*DIGIT: well-formed but a version we don't speak.
bool looksLikeHttpVersion(std::string_view v) {
  if (v.size() < 8 || v.substr(0, 5) != "HTTP/")
    return false;
  size_t i = 5, d1 = 0, d2 = 0;
  while (i < v.size() && isDigit(v[i]))
    ++i, ++d1;
  if (d1 == 0 || i >= v.size() || v[i] != '.')
    return false;
  ++i;
  while (i < v.size() && isDigit(v[i]))
    ++i, ++d2;
  return d2 > 0 && i == v.size();
}

// uri-host [":" port]; require_port for CONNECT's authority-form. Rejects userinfo ('@'),
// which RFC 9110 4.2.4 says to treat as an error.
bool validAuthority(std::string_view a, bool require_port) {
  if (a.empty() || a.find_first_of("@/?") != kNpos)
    return false;
  size_t colon = a.rfind(':');
  if (a.front() == '[') {
    size_t close = a.find(']');
    if (close == kNpos || close == 1)
      return false;
    if (close + 1 == a.size())
      return !require_port;
    if (a[close + 1] != ':')
      return false;
    colon = close + 1;
  } else if (colon == 0) {
    return false; // no host
  }
  if (colon == kNpos)
    return !require_port;
  std::string_view port = a.substr(colon + 1);
  if (port.empty())
    return !require_port; // "host:" is allowed by the URI grammar
  if (port.size() > 5)
    return false;
  for (char c : port)
    if (!isDigit(c))
      return false;
  return true;
}

// What the start line said, viewing the block's bytes.
struct StartLine {
  std::string_view method;
  std::string_view scheme;    // absolute-form only (lower-cased when copied)
  std::string_view authority; // absolute-form or CONNECT
  std::string_view path;      // empty for CONNECT
  bool path_needs_slash = false; // absolute-form "http://h?q" -> "/?q"
  bool has_path = false;
  bool has_authority = false;
  std::string_view status;
  uint8_t minor = 1;
};

ParseError parseRequestLine(std::string_view line, StartLine& sl, std::string& detail) {
  const size_t n = line.size();
  size_t i = 0;
  while (i < n && is(line[i], kTchar))
    ++i;
  if (i == 0 || i == n || line[i] != ' ') {
    size_t sp = line.find(' ');
    detail = "invalid method '" + printable(line.substr(0, sp)) + "'";
    return ParseError::BadRequestLine;
  }
  sl.method = line.substr(0, i);
  const size_t t = ++i;
  while (i < n && is(line[i], kTarget))
    ++i;
  if (i == t) {
    detail = "empty request target";
    return ParseError::BadRequestLine;
  }
  if (i == n || line[i] != ' ') {
    detail = i == n ? "missing HTTP version" : "invalid character in request target";
    return ParseError::BadRequestLine;
  }
  std::string_view target = line.substr(t, i - t);
  std::string_view version = line.substr(i + 1);
  if (version == "HTTP/1.1") {
    sl.minor = 1;
  } else if (version == "HTTP/1.0") {
    sl.minor = 0;
  } else if (looksLikeHttpVersion(version)) {
    detail = "unsupported HTTP version '" + printable(version) + "'";
    return ParseError::BadVersion;
  } else {
    detail = "invalid HTTP version '" + printable(version) + "'";
    return ParseError::BadRequestLine;
  }

  // A fragment is never sent in a request target; reject rather than guess which part routes.
  if (target.find('#') != kNpos) {
    detail = "fragment in request target";
    return ParseError::BadRequestLine;
  }
  if (sl.method == "CONNECT") {
    if (!validAuthority(target, true)) {
      detail = "CONNECT target must be host:port";
      return ParseError::BadRequestLine;
    }
    sl.authority = target;
    sl.has_authority = true;
    return ParseError::None;
  }
  if (target.front() == '/') {
    sl.path = target;
    sl.has_path = true;
    return ParseError::None;
  }
  if (target == "*") {
    if (sl.method != "OPTIONS") {
      detail = "asterisk-form target is only allowed for OPTIONS";
      return ParseError::BadRequestLine;
    }
    sl.path = target;
    sl.has_path = true;
    return ParseError::None;
  }
  // absolute-form. Only http(s): anything else is not something a proxy can forward.
  size_t sep = target.find("://");
  if (sep == kNpos) {
    detail = "invalid request target '" + printable(target) + "'";
    return ParseError::BadRequestLine;
  }
  std::string_view scheme = target.substr(0, sep);
  if (!equalsIgnoreCase(scheme, "http") && !equalsIgnoreCase(scheme, "https")) {
    detail = "unsupported scheme in request target '" + printable(scheme) + "'";
    return ParseError::BadRequestLine;
  }
  std::string_view rest = target.substr(sep + 3);
  size_t path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  if (!validAuthority(authority, false)) {
    detail = "invalid authority in request target '" + printable(authority) + "'";
    return ParseError::BadRequestLine;
  }
  sl.scheme = scheme;
  sl.authority = authority;
  sl.has_authority = true;
  sl.has_path = true;
  if (path_start != kNpos) {
    sl.path = rest.substr(path_start);
    sl.path_needs_slash = sl.path.front() == '?';
  } else {
    sl.path_needs_slash = true; // empty path is "/"
  }
  return ParseError::None;
}

// HTTP-version SP 3DIGIT [SP reason-phrase]; a missing SP after the code is tolerated.
ParseError parseStatusLine(std::string_view line, StartLine& sl, std::string& detail) {
  if (line.size() < 12 || line[8] != ' ') {
    detail = "invalid status line '" + printable(line) + "'";
    return ParseError::BadStatusLine;
  }
  std::string_view version = line.substr(0, 8);
  if (version == "HTTP/1.1") {
    sl.minor = 1;
  } else if (version == "HTTP/1.0") {
    sl.minor = 0;
  } else {
    detail = "invalid version in status line '" + printable(version) + "'";
    return ParseError::BadStatusLine;
  }
  std::string_view code = line.substr(9, 3);
  if (code[0] < '1' || code[0] > '9' || !isDigit(code[1]) || !isDigit(code[2])) {
    detail = "invalid status code '" + printable(code) + "'";
    return ParseError::BadStatusLine;
  }
  if (line.size() > 12) {
    if (line[12] != ' ') {
      detail = "invalid status code '" + printable(line.substr(9)) + "'";
      return ParseError::BadStatusLine;
    }
    for (char c : line.substr(13)) {
      if (!is(c, kFieldValue)) {
        detail = "invalid character in reason phrase";
        return ParseError::BadStatusLine;
      }
    }
  }
  sl.status = code;
  return ParseError::None;
}

} // namespace

uint32_t statusForError(ParseError e) {
  switch (e) {
  case ParseError::None:
  case ParseError::Paused:
    return 0;
  case ParseError::HeadersTooLarge:
    return 431;
  case ParseError::UnsupportedTransferEncoding:
    return 501;
  default:
    return 400;
  }
}

const char* errorName(ParseError e) {
  switch (e) {
  case ParseError::None: return "none";
  case ParseError::BadRequestLine: return "bad_request_line";
  case ParseError::BadStatusLine: return "bad_status_line";
  case ParseError::BadVersion: return "bad_version";
  case ParseError::BadHeader: return "bad_header";
  case ParseError::ObsFold: return "obs_fold";
  case ParseError::BareLineEnding: return "bare_line_ending";
  case ParseError::HeadersTooLarge: return "headers_too_large";
  case ParseError::BadContentLength: return "bad_content_length";
  case ParseError::ContentLengthAndTransferEncoding: return "content_length_and_transfer_encoding";
  case ParseError::BadTransferEncoding: return "bad_transfer_encoding";
  case ParseError::UnsupportedTransferEncoding: return "unsupported_transfer_encoding";
  case ParseError::BadChunk: return "bad_chunk";
  case ParseError::MissingHost: return "missing_host";
  case ParseError::DuplicateHost: return "duplicate_host";
  case ParseError::Paused: return "paused";
  }
  return "unknown";
}

Parser::Parser(Type type, ParserCallbacks& callbacks, ParserLimits limits)
    : type_(type), callbacks_(callbacks), limits_(limits) {
  fields_.reserve(16);
}

void Parser::fail(ParseError e, std::string detail) {
  error_ = e;
  error_detail_ = std::move(detail);
}

void Parser::resume() {
  if (error_ == ParseError::Paused)
    error_ = ParseError::None;
}

void Parser::resetBlockScan() {
  scan_pos_ = 0;
  scan_line_start_ = 0;
  scan_lines_ = 0;
  // Don't keep a large buffer around per idle connection after one big slow header block.
  if (header_buf_.capacity() > 8192)
    std::string().swap(header_buf_);
  else
    header_buf_.clear();
}

bool Parser::completeMessage() {
  state_ = State::Idle;
  empty_lines_ = 0;
  if (!callbacks_.onMessageComplete()) {
    if (error_ == ParseError::None)
      error_ = ParseError::Paused;
    return false;
  }
  return true;
}

size_t Parser::execute(const char* data, size_t len) {
  if (error_ != ParseError::None)
    return 0;
  // Completion left pending by a pause in onHeaders (or EOF while paused): deliver it even when
  // called with no bytes.
  if (state_ == State::Body && body_remaining_ == 0) {
    if (!completeMessage())
      return 0;
  }
  size_t pos = 0;
  while (pos < len && error_ == ParseError::None) {
    switch (state_) {
    case State::Idle: {
      const char c = data[pos];
      if (idle_cr_) {
        if (c != '\n') {
          fail(ParseError::BareLineEnding, "bare CR before start line");
          return pos;
        }
        idle_cr_ = false;
        ++pos;
        if (++empty_lines_ > kMaxLeadingEmptyLines) {
          fail(type_ == Type::Request ? ParseError::BadRequestLine : ParseError::BadStatusLine,
               "too many empty lines before start line");
          return pos;
        }
        break;
      }
      if (c == '\r') {
        idle_cr_ = true;
        ++pos;
        break;
      }
      if (c == '\n') {
        fail(ParseError::BareLineEnding, "bare LF before start line");
        return pos;
      }
      state_ = State::Headers;
      resetBlockScan();
      break;
    }
    case State::Headers:
    case State::Trailers:
      pos += parseHeaderBlock(data + pos, len - pos);
      break;
    case State::Body: {
      if (body_remaining_ == 0) {
        completeMessage();
        break;
      }
      const size_t n = size_t(std::min<uint64_t>(body_remaining_, len - pos));
      callbacks_.onBody(std::string_view(data + pos, n));
      pos += n;
      body_remaining_ -= n;
      if (body_remaining_ == 0)
        completeMessage();
      break;
    }
    case State::BodyUntilClose:
      callbacks_.onBody(std::string_view(data + pos, len - pos));
      pos = len;
      break;
    case State::ChunkSize:
      pos += parseChunkLine(data + pos, len - pos);
      break;
    case State::ChunkData: {
      const size_t n = size_t(std::min<uint64_t>(body_remaining_, len - pos));
      callbacks_.onBody(std::string_view(data + pos, n));
      pos += n;
      body_remaining_ -= n;
      if (body_remaining_ == 0) {
        state_ = State::ChunkDataEnd;
        chunk_cr_seen_ = false;
      }
      break;
    }
    case State::ChunkDataEnd: {
      const char c = data[pos];
      if (c != (chunk_cr_seen_ ? '\n' : '\r')) {
        fail(ParseError::BadChunk, "missing CRLF after chunk data");
        return pos;
      }
      ++pos;
      if (chunk_cr_seen_) {
        state_ = State::ChunkSize;
        chunk_line_ = ChunkLine::Digits;
        chunk_digits_ = 0;
        chunk_line_bytes_ = 0;
        body_remaining_ = 0;
      } else {
        chunk_cr_seen_ = true;
      }
      break;
    }
    }
  }
  return pos;
}

// Finds the end of the header (or trailer) block: the LF of the first empty line. Scans from
// scan_pos_ so bytes seen in an earlier call are not scanned again. Also rejects a bare LF and
// enforces the header count as lines complete, so a flood of lines fails early.
size_t Parser::findBlockEnd(const char* buf, size_t size) {
  const bool trailers = state_ == State::Trailers;
  while (scan_pos_ < size) {
    const void* hit = std::memchr(buf + scan_pos_, '\n', size - scan_pos_);
    if (hit == nullptr) {
      scan_pos_ = size;
      return kNpos;
    }
    const size_t lf = size_t(static_cast<const char*>(hit) - buf);
    scan_pos_ = lf + 1;
    if (lf == 0 || buf[lf - 1] != '\r') {
      fail(ParseError::BareLineEnding, trailers ? "bare LF in trailers" : "bare LF in header block");
      return kNpos;
    }
    if (lf - 1 == scan_line_start_)
      return lf + 1;
    scan_line_start_ = lf + 1;
    ++scan_lines_;
    const size_t fields = trailers ? scan_lines_ : scan_lines_ - 1;
    if (fields > limits_.max_headers) {
      fail(ParseError::HeadersTooLarge,
           std::string(trailers ? "too many trailers (limit " : "too many headers (limit ") +
               std::to_string(limits_.max_headers) + ")");
      return kNpos;
    }
  }
  return kNpos;
}

static std::string tooLargeDetail(bool trailers, size_t limit) {
  return std::string(trailers ? "trailers" : "header block") + " larger than " +
         std::to_string(limit) + " bytes";
}

// Gathers a header/trailer block; returns bytes consumed. The block size limit counts every
// byte from the start line (or first trailer) through the final empty line, CRLFs included.
size_t Parser::parseHeaderBlock(const char* data, size_t len) {
  const size_t max = limits_.max_header_bytes;
  const bool trailers = state_ == State::Trailers;
  if (header_buf_.empty()) {
    // Fast path: the whole block is in this call; parse it in place without copying.
    const size_t scan_len = std::min(len, max);
    const size_t end = findBlockEnd(data, scan_len);
    if (error_ != ParseError::None)
      return scan_pos_;
    if (end != kNpos) {
      std::string_view block(data, end);
      if (trailers)
        finishTrailers(block);
      else
        finishHeaders(block);
      return end;
    }
    if (len >= max) {
      fail(ParseError::HeadersTooLarge, tooLargeDetail(trailers, max));
      return scan_len;
    }
    header_buf_.assign(data, len);
    return len;
  }
  // Slow path: continue a partial block. header_buf_.size() < max here (otherwise we failed).
  const size_t old = header_buf_.size();
  const size_t take = std::min(len, max - old);
  header_buf_.append(data, take);
  const size_t end = findBlockEnd(header_buf_.data(), header_buf_.size());
  if (error_ != ParseError::None)
    return take;
  if (end != kNpos) {
    std::string_view block(header_buf_.data(), end);
    if (trailers)
      finishTrailers(block);
    else
      finishHeaders(block);
    return end - old;
  }
  if (header_buf_.size() >= max) {
    fail(ParseError::HeadersTooLarge, tooLargeDetail(trailers, max));
    return take;
  }
  return take;
}

// Splits the field lines of a block (from `pos` to the final empty line) into fields_,
// validating names and values. Every LF in the block is known to follow a CR.
bool Parser::parseFieldLines(std::string_view block, size_t pos) {
  fields_.clear();
  const char* base = block.data();
  while (true) {
    const char* lf = static_cast<const char*>(std::memchr(base + pos, '\n', block.size() - pos));
    const size_t line_end = size_t(lf - base) - 1; // the CR
    if (line_end == pos)
      return true; // the empty line ending the block
    std::string_view line(base + pos, line_end - pos);
    pos = size_t(lf - base) + 1;
    // A CR is neither a tchar nor a value byte, so a line holding one always ends up in one of
    // the error paths below; only there do we look for it, to report it as what it is.
    auto failLine = [&](ParseError e, std::string detail) {
      if (std::memchr(line.data(), '\r', line.size()) != nullptr)
        fail(ParseError::BareLineEnding, "bare CR in header line");
      else
        fail(e, std::move(detail));
      return false;
    };
    if (isWs(line.front()))
      return failLine(ParseError::ObsFold, "obsolete line folding in header block");
    size_t i = 0;
    while (i < line.size() && is(line[i], kTchar))
      ++i;
    if (i == line.size())
      return failLine(ParseError::BadHeader, "missing colon in header line '" + printable(line) + "'");
    if (line[i] != ':') {
      if (isWs(line[i])) {
        size_t j = i;
        while (j < line.size() && isWs(line[j]))
          ++j;
        if (j < line.size() && line[j] == ':')
          return failLine(ParseError::BadHeader,
                          "whitespace before colon in header '" + printable(line.substr(0, i)) + "'");
      }
      const size_t colon = line.find(':');
      return failLine(ParseError::BadHeader,
                      "invalid character in header name '" + printable(line.substr(0, colon)) + "'");
    }
    if (i == 0)
      return failLine(ParseError::BadHeader, "empty header name");
    std::string_view name = line.substr(0, i);
    std::string_view value = trimWs(line.substr(i + 1));
    const char* p = value.data();
    const char* e = p + value.size();
    while (p < e && is(*p, kFieldValue))
      ++p;
    if (p != e) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "0x%02x", unsigned(static_cast<unsigned char>(*p)));
      return failLine(ParseError::BadHeader, "invalid character " + std::string(hex) +
                                                 " in value of header '" + printable(name) + "'");
    }
    fields_.push_back(Field{name, value, classify(name)});
  }
}

bool Parser::finishHeaders(std::string_view block) {
  // Start line (the block always holds at least one complete non-empty line).
  const char* lf = static_cast<const char*>(std::memchr(block.data(), '\n', block.size()));
  const size_t line_len = size_t(lf - block.data()) - 1;
  std::string_view line = block.substr(0, line_len);
  StartLine sl;
  std::string detail;
  const ParseError start_error = type_ == Type::Request ? parseRequestLine(line, sl, detail)
                                                        : parseStatusLine(line, sl, detail);
  if (start_error != ParseError::None) {
    // No valid start line contains a CR, so a bare CR always lands here.
    if (std::memchr(line.data(), '\r', line.size()) != nullptr)
      fail(ParseError::BareLineEnding,
           type_ == Type::Request ? "bare CR in request line" : "bare CR in status line");
    else
      fail(start_error, std::move(detail));
    return false;
  }
  if (!parseFieldLines(block, line_len + 2))
    return false;

  // Framing and connection semantics, from views into the block (no allocation yet).
  bool has_cl = false;
  uint64_t cl = 0;
  size_t cl_values = 0;
  bool has_te = false;
  int chunked_count = 0;
  bool chunked_last = false;
  bool other_coding = false;
  bool conn_close = false, conn_keep_alive = false, conn_upgrade = false;
  bool has_upgrade = false, expect_continue = false;
  size_t host_count = 0;
  std::string_view host;
  ParseError err = ParseError::None;

  for (const Field& f : fields_) {
    switch (f.kind) {
    case Host:
      ++host_count;
      host = f.value;
      break;
    case ContentLength:
      forEachListElement(f.value, [&](std::string_view elem) {
        if (elem.empty()) {
          err = ParseError::BadContentLength;
          detail = "empty Content-Length value";
          return false;
        }
        uint64_t v = 0;
        for (char c : elem) {
          if (!isDigit(c)) {
            err = ParseError::BadContentLength;
            detail = "invalid Content-Length '" + printable(f.value) + "'";
            return false;
          }
          const uint64_t d = uint64_t(c - '0');
          if (v > (kMaxBodySize - d) / 10) {
            err = ParseError::BadContentLength;
            detail = "Content-Length too large";
            return false;
          }
          v = v * 10 + d;
        }
        if (has_cl && v != cl) {
          err = ParseError::BadContentLength;
          detail = "differing Content-Length values";
          return false;
        }
        has_cl = true;
        cl = v;
        ++cl_values;
        return true;
      });
      break;
    case TransferEncoding:
      has_te = true;
      forEachListElement(f.value, [&](std::string_view elem) {
        // transfer-coding = token *( OWS ";" OWS transfer-parameter )
        size_t n = 0;
        while (n < elem.size() && is(elem[n], kTchar))
          ++n;
        std::string_view coding = elem.substr(0, n);
        const bool has_params = n < elem.size();
        if (coding.empty() || (has_params && !isWs(elem[n]) && elem[n] != ';')) {
          err = ParseError::BadTransferEncoding;
          detail = "invalid Transfer-Encoding '" + printable(f.value) + "'";
          return false;
        }
        if (equalsIgnoreCase(coding, "chunked")) {
          if (has_params) {
            err = ParseError::BadTransferEncoding;
            detail = "parameters on chunked coding";
            return false;
          }
          ++chunked_count;
          chunked_last = true;
        } else {
          other_coding = true;
          chunked_last = false;
        }
        return true;
      });
      break;
    case Connection:
      forEachListElement(f.value, [&](std::string_view tok) {
        if (equalsIgnoreCase(tok, "close"))
          conn_close = true;
        else if (equalsIgnoreCase(tok, "keep-alive"))
          conn_keep_alive = true;
        else if (equalsIgnoreCase(tok, "upgrade"))
          conn_upgrade = true;
        return true;
      });
      break;
    case Expect:
      forEachListElement(f.value, [&](std::string_view tok) {
        if (equalsIgnoreCase(tok, "100-continue"))
          expect_continue = true;
        return true;
      });
      break;
    case Upgrade:
      has_upgrade = true;
      break;
    default:
      break;
    }
    if (err != ParseError::None) {
      fail(err, std::move(detail));
      return false;
    }
  }

  // Order matters only for which error is reported; every one of these rejects the message.
  if (has_te) {
    if (sl.minor == 0) {
      fail(ParseError::BadTransferEncoding, "Transfer-Encoding in an HTTP/1.0 message");
      return false;
    }
    if (has_cl) {
      fail(ParseError::ContentLengthAndTransferEncoding,
           "both Content-Length and Transfer-Encoding present");
      return false;
    }
    if (chunked_count > 1) {
      fail(ParseError::BadTransferEncoding, "chunked applied more than once");
      return false;
    }
    if (chunked_count == 1 && !chunked_last) {
      fail(ParseError::BadTransferEncoding, "chunked is not the final transfer coding");
      return false;
    }
    if (other_coding || chunked_count == 0) {
      fail(ParseError::UnsupportedTransferEncoding, "unsupported transfer coding");
      return false;
    }
  }
  const bool request = type_ == Type::Request;
  if (request) {
    if (host_count > 1) {
      fail(ParseError::DuplicateHost, "more than one Host header");
      return false;
    }
    // RFC 9112 3.2: an invalid Host value is a 400 even when the target carries the authority.
    // Empty is valid (a target without authority).
    if (host_count == 1 && !host.empty()) {
      bool valid = validAuthority(host, false);
      for (char c : host)
        valid = valid && is(c, kTarget);
      if (!valid) {
        fail(ParseError::BadHeader, "invalid Host header '" + printable(host) + "'");
        return false;
      }
    }
    if (!sl.has_authority && host_count == 0 && sl.minor == 1) {
      fail(ParseError::MissingHost, "HTTP/1.1 request without Host header");
      return false;
    }
  }

  info_ = MessageInfo{};
  info_.version_minor = sl.minor;
  info_.keep_alive = !conn_close && (sl.minor == 1 || conn_keep_alive);
  info_.chunked = chunked_count == 1;
  info_.has_content_length = has_cl;
  info_.content_length = cl;
  // RFC 9110 10.1.1: a 100-continue expectation in an HTTP/1.0 request is ignored.
  info_.expect_continue = request && expect_continue && sl.minor == 1;
  info_.upgrade = conn_upgrade && has_upgrade;

  // Body framing. chunked/has_content_length above describe the headers; for responses that
  // can't have a body (HEAD, 1xx, 204, 304) they don't frame anything.
  State next = State::Body;
  uint64_t remaining = 0;
  uint32_t status = 0;
  if (!request)
    status = uint32_t(sl.status[0] - '0') * 100 + uint32_t(sl.status[1] - '0') * 10 +
             uint32_t(sl.status[2] - '0');
  const bool no_body =
      !request && (response_to_head_ || status / 100 == 1 || status == 204 || status == 304);
  if (!no_body) {
    if (info_.chunked) {
      next = State::ChunkSize;
    } else if (has_cl) {
      remaining = cl;
    } else if (!request) {
      next = State::BodyUntilClose;
      info_.body_until_close = true;
      info_.keep_alive = false;
    }
  }

  // Build the map: pseudo-headers first, then fields in arrival order. The slack leaves room
  // for the headers the proxy adds (x-forwarded-*, x-request-id, ...) without regrowing.
  HeaderMap map;
  map.reserve(fields_.size() + 8);
  if (request) {
    map.add(":method", std::string(sl.method));
    if (!sl.scheme.empty())
      map.add(":scheme", lowerString(sl.scheme));
    // An absolute-form or CONNECT target's authority wins over Host (RFC 9112 3.2.2).
    if (sl.has_authority)
      map.add(":authority", std::string(sl.authority));
    else if (host_count == 1)
      map.add(":authority", std::string(host));
    if (sl.has_path) {
      if (sl.path_needs_slash) {
        std::string p;
        p.reserve(sl.path.size() + 1);
        p.push_back('/');
        p.append(sl.path);
        map.add(":path", std::move(p));
      } else {
        map.add(":path", std::string(sl.path));
      }
    }
  } else {
    map.add(":status", std::string(sl.status));
  }
  bool cl_added = false;
  for (const Field& f : fields_) {
    if (f.kind == Host && request)
      continue; // carried as :authority
    if (f.kind == ContentLength) {
      if (cl_added)
        continue; // identical duplicates collapse to one
      cl_added = true;
      map.add("content-length", cl_values > 1 ? std::to_string(cl) : std::string(f.value));
      continue;
    }
    map.add(lowerString(f.name), std::string(f.value));
  }

  // `block` may view header_buf_: everything needed is copied out, so the buffer can go.
  resetBlockScan();
  state_ = next;
  body_remaining_ = remaining;
  if (next == State::ChunkSize) {
    chunk_line_ = ChunkLine::Digits;
    chunk_digits_ = 0;
    chunk_line_bytes_ = 0;
  }
  if (!callbacks_.onHeaders(std::move(map), info_)) {
    if (error_ == ParseError::None)
      error_ = ParseError::Paused;
    return false; // a bodyless message completes on the next execute()
  }
  if (state_ == State::Body && body_remaining_ == 0)
    return completeMessage();
  return true;
}

bool Parser::finishTrailers(std::string_view block) {
  if (!parseFieldLines(block, 0))
    return false;
  if (!fields_.empty()) {
    HeaderMap trailers;
    for (const Field& f : fields_)
      trailers.add(lowerString(f.name), std::string(f.value));
    resetBlockScan();
    callbacks_.onTrailers(std::move(trailers));
  } else {
    resetBlockScan();
  }
  return completeMessage();
}

// Consumes bytes of a chunk-size line: 1*HEXDIG *( BWS ";" BWS name [ BWS "=" BWS value ] ) CRLF.
// Whitespace is allowed only around ';' and '=', never right before the CRLF.
size_t Parser::parseChunkLine(const char* data, size_t len) {
  size_t i = 0;
  auto bad = [&](const char* what) {
    fail(ParseError::BadChunk, what);
    return i;
  };
  while (i < len) {
    const char c = data[i++];
    if (++chunk_line_bytes_ > kMaxChunkLineBytes)
      return bad("chunk-size line too long");
    switch (chunk_line_) {
    case ChunkLine::Digits:
      if (is(c, kHex)) {
        if (chunk_digits_ == 16)
          return bad("chunk size has too many digits");
        body_remaining_ = (body_remaining_ << 4) | hexValue(c);
        ++chunk_digits_;
        if (body_remaining_ > kMaxBodySize)
          return bad("chunk size too large");
        break;
      }
      if (chunk_digits_ == 0)
        return bad("invalid chunk size");
      if (c == '\r')
        chunk_line_ = ChunkLine::Lf;
      else if (c == ';')
        chunk_line_ = ChunkLine::ExtPreName;
      else if (isWs(c))
        chunk_line_ = ChunkLine::BwsBeforeSemi;
      else
        return bad("invalid character in chunk size");
      break;
    case ChunkLine::BwsBeforeSemi:
      if (c == ';')
        chunk_line_ = ChunkLine::ExtPreName;
      else if (!isWs(c))
        return bad("whitespace in chunk-size line");
      break;
    case ChunkLine::ExtPreName:
      if (is(c, kTchar))
        chunk_line_ = ChunkLine::ExtName;
      else if (!isWs(c))
        return bad("invalid chunk extension name");
      break;
    case ChunkLine::ExtName:
      if (is(c, kTchar))
        break;
      if (c == ';')
        chunk_line_ = ChunkLine::ExtPreName;
      else if (c == '=')
        chunk_line_ = ChunkLine::ExtPreValue;
      else if (isWs(c))
        chunk_line_ = ChunkLine::ExtBwsAfterName;
      else if (c == '\r')
        chunk_line_ = ChunkLine::Lf;
      else
        return bad("invalid character in chunk extension");
      break;
    case ChunkLine::ExtBwsAfterName:
      if (c == ';')
        chunk_line_ = ChunkLine::ExtPreName;
      else if (c == '=')
        chunk_line_ = ChunkLine::ExtPreValue;
      else if (!isWs(c))
        return bad("invalid character in chunk extension");
      break;
    case ChunkLine::ExtPreValue:
      if (is(c, kTchar))
        chunk_line_ = ChunkLine::ExtToken;
      else if (c == '"')
        chunk_line_ = ChunkLine::ExtQuoted;
      else if (!isWs(c))
        return bad("invalid chunk extension value");
      break;
    case ChunkLine::ExtToken:
      if (is(c, kTchar))
        break;
      if (c == ';')
        chunk_line_ = ChunkLine::ExtPreName;
      else if (isWs(c))
        chunk_line_ = ChunkLine::BwsBeforeSemi;
      else if (c == '\r')
        chunk_line_ = ChunkLine::Lf;
      else
        return bad("invalid character in chunk extension value");
      break;
    case ChunkLine::ExtQuoted:
      if (c == '"')
        chunk_line_ = ChunkLine::ExtAfterQuoted;
      else if (c == '\\')
        chunk_line_ = ChunkLine::ExtQuotedEscape;
      else if (!is(c, kQdText))
        return bad("invalid character in quoted chunk extension");
      break;
    case ChunkLine::ExtQuotedEscape:
      // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
      if (!is(c, kFieldValue))
        return bad("invalid quoted-pair in chunk extension");
      chunk_line_ = ChunkLine::ExtQuoted;
      break;
    case ChunkLine::ExtAfterQuoted:
      if (c == ';')
        chunk_line_ = ChunkLine::ExtPreName;
      else if (isWs(c))
        chunk_line_ = ChunkLine::BwsBeforeSemi;
      else if (c == '\r')
        chunk_line_ = ChunkLine::Lf;
      else
        return bad("invalid character after chunk extension");
      break;
    case ChunkLine::Lf:
      if (c != '\n')
        return bad("bare CR in chunk-size line");
      chunk_line_ = ChunkLine::Digits;
      chunk_digits_ = 0;
      chunk_line_bytes_ = 0;
      if (body_remaining_ == 0) {
        state_ = State::Trailers;
        resetBlockScan();
      } else {
        state_ = State::ChunkData;
      }
      return i;
    }
  }
  return i;
}

// End of input. Errors for a message cut short:
//   partial start line            -> BadRequestLine / BadStatusLine
//   partial header fields         -> BadHeader
//   Content-Length body truncated -> BadContentLength
//   inside chunked body/trailers  -> BadChunk
ParseError Parser::onEof() {
  if (error_ != ParseError::None && error_ != ParseError::Paused)
    return error_;
  switch (state_) {
  case State::Idle:
    return ParseError::None;
  case State::Body:
    if (body_remaining_ == 0)
      return ParseError::None; // complete, only its completion is pending behind a pause
    fail(ParseError::BadContentLength,
         "connection closed " + std::to_string(body_remaining_) + " bytes before the end of the body");
    return error_;
  case State::BodyUntilClose:
    if (error_ == ParseError::Paused) {
      // Deliver the completion once resumed, like a bodyless message paused in onHeaders.
      state_ = State::Body;
      body_remaining_ = 0;
      return ParseError::None;
    }
    completeMessage();
    return ParseError::None;
  case State::Headers:
    if (scan_lines_ == 0)
      fail(type_ == Type::Request ? ParseError::BadRequestLine : ParseError::BadStatusLine,
           "connection closed inside the start line");
    else
      fail(ParseError::BadHeader, "connection closed inside the header block");
    return error_;
  case State::ChunkSize:
  case State::ChunkData:
  case State::ChunkDataEnd:
  case State::Trailers:
    fail(ParseError::BadChunk, "connection closed inside the chunked body");
    return error_;
  }
  return ParseError::None;
}

} // namespace wasmgate::http::http1
