#include "http/http1/codec.h"

#include <charconv>
#include <cstring>

namespace wasmgate::http::http1 {

namespace {

void appendUint(Buffer& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, size_t(r.ptr - buf));
}

void appendHex(Buffer& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v, 16);
  out.append(buf, size_t(r.ptr - buf));
}

bool codecOwnsHeader(const std::string& name) {
  return name.empty() || name[0] == ':' || name == "transfer-encoding" || name == "connection" ||
         name == "content-length";
}

// Writes the regular (non-pseudo) headers, skipping framing headers the codec owns. One
// reservation, then plain copies.
void appendHeaderLines(Buffer& out, const HeaderMap& headers) {
  size_t total = 0;
  for (const auto& [name, value] : headers)
    total += name.size() + value.size() + 4;
  char* p = out.prepareWrite(total);
  char* start = p;
  for (const auto& [name, value] : headers) {
    if (codecOwnsHeader(name))
      continue;
    std::memcpy(p, name.data(), name.size());
    p += name.size();
    *p++ = ':';
    *p++ = ' ';
    std::memcpy(p, value.data(), value.size());
    p += value.size();
    *p++ = '\r';
    *p++ = '\n';
  }
  out.commit(size_t(p - start));
}

// Frames one body slice (drained from `data`): as a chunk, or as is for a known length.
void appendBody(Buffer& out, Buffer& data, bool chunked, bool end_stream) {
  if (!chunked) {
    out.move(data);
    return;
  }
  if (!data.empty()) {
    appendHex(out, data.size());
    out.append("\r\n");
    out.append(data);
    out.append("\r\n");
    data.clear();
  }
  if (end_stream)
    out.append("0\r\n\r\n");
}

// The last chunk followed by trailer fields.
void appendChunkedTrailers(Buffer& out, const HeaderMap& trailers) {
  out.append("0\r\n");
  appendHeaderLines(out, trailers);
  out.append("\r\n");
}

} // namespace

const char* reasonPhrase(uint32_t status) {
  switch (status) {
  case 100: return "Continue";
  case 101: return "Switching Protocols";
  case 103: return "Early Hints";
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 204: return "No Content";
  case 206: return "Partial Content";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 303: return "See Other";
  case 304: return "Not Modified";
  case 307: return "Temporary Redirect";
  case 308: return "Permanent Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 413: return "Payload Too Large";
  case 414: return "URI Too Long";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 505: return "HTTP Version Not Supported";
  default: return "";
  }
}

namespace {
// The fixed hop-by-hop names, tested by length first so most headers cost one comparison.
bool isHopByHop(const HeaderMap::Entry& e) {
  const std::string& n = e.first;
  switch (n.size()) {
  case 2:
    return n == "te" && !equalsIgnoreCase(e.second, "trailers");
  case 7:
    return n == "upgrade";
  case 10:
    return n == "connection" || n == "keep-alive";
  case 16:
    return n == "proxy-connection";
  case 17:
    return n == "transfer-encoding";
  default:
    return false;
  }
}
} // namespace

void removeHopByHopHeaders(HeaderMap& headers) {
  bool any = false;
  for (const auto& e : headers)
    if (isHopByHop(e)) {
      any = true;
      break;
    }
  if (!any)
    return;
  // Names listed in Connection are hop-by-hop too (RFC 9110 7.6.1).
  if (const std::string* conn = headers.get("connection")) {
    std::string list = *conn;
    size_t pos = 0;
    while (pos <= list.size()) {
      size_t comma = list.find(',', pos);
      if (comma == std::string::npos)
        comma = list.size();
      std::string item = toLower(list.substr(pos, comma - pos));
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
        item.erase(0, 1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
        item.pop_back();
      // Never let Connection strip headers the proxy relies on.
      if (!item.empty() && item[0] != ':' && item != "host" && item != "content-length")
        headers.remove(item);
      pos = comma + 1;
    }
  }
  headers.removeIf(isHopByHop);
}

// ---------------------------------------------------------------------------------------------
// Server side

ServerCodec::ServerCodec(network::Connection& connection, ServerCodecCallbacks& callbacks,
                         ParserLimits limits)
    : connection_(connection), callbacks_(callbacks), parser_(Parser::Type::Request, *this, limits) {}

void ServerCodec::dispatch(Buffer& data) {
  while (!paused_ && !data.empty()) {
    size_t n = parser_.execute(data.data(), data.size());
    data.drain(n);
    ParseError e = parser_.error();
    if (e == ParseError::Paused)
      break;
    if (e != ParseError::None) {
      data.clear();
      paused_ = true;
      callbacks_.onProtocolError(statusForError(e), errorName(e));
      return;
    }
    if (n == 0)
      break;
  }
}

bool ServerCodec::onEof() {
  if (stream_ != nullptr && !request_complete_)
    return true;
  return parser_.messageInProgress();
}

void ServerCodec::resumeAfterResponse() {
  stream_ = nullptr;
  paused_ = false;
  request_complete_ = false;
  end_sent_at_headers_ = false;
  has_trailers_ = false;
  pending_trailers_.clear();
  response_started_ = false;
  response_complete_ = false;
  chunked_response_ = false;
  parser_.resume();
}

bool ServerCodec::onHeaders(HeaderMap&& headers, const MessageInfo& info) {
  keep_alive_ = info.keep_alive;
  version_minor_ = info.version_minor;
  request_is_head_ = headers.method() == "HEAD";
  body_length_known_ = !info.chunked;
  body_remaining_ = info.has_content_length ? info.content_length : 0;
  end_sent_at_headers_ = !info.chunked && body_remaining_ == 0;
  stream_ = &callbacks_.newStream(*this, info);
  if (stream_ == nullptr)
    return false;
  stream_->decodeHeaders(std::move(headers), end_sent_at_headers_);
  return true;
}

void ServerCodec::onBody(std::string_view data) {
  if (stream_ == nullptr)
    return;
  bool end = false;
  if (body_length_known_) {
    body_remaining_ -= std::min<uint64_t>(body_remaining_, data.size());
    end = body_remaining_ == 0;
    if (end)
      end_sent_at_headers_ = true; // the end was delivered with this chunk
  }
  body_scratch_.append(data);
  stream_->decodeData(body_scratch_, end);
  body_scratch_.clear();
}

void ServerCodec::onTrailers(HeaderMap&& trailers) {
  pending_trailers_ = std::move(trailers);
  has_trailers_ = true;
}

bool ServerCodec::onMessageComplete() {
  request_complete_ = true;
  if (stream_ != nullptr && !end_sent_at_headers_) {
    if (has_trailers_) {
      stream_->decodeTrailers(std::move(pending_trailers_));
    } else {
      body_scratch_.clear();
      stream_->decodeData(body_scratch_, true);
    }
  }
  // One request at a time: the next is parsed after this response is done.
  paused_ = true;
  return false;
}

void ServerCodec::encode1xxHeaders(const HeaderMap& headers) {
  uint32_t status = headers.status();
  out_.append("HTTP/1.1 ");
  appendUint(out_, status);
  out_.append(" ");
  out_.append(reasonPhrase(status));
  out_.append("\r\n");
  appendHeaderLines(out_, headers);
  out_.append("\r\n");
  connection_.write(out_);
}

void ServerCodec::encodeHeaders(const HeaderMap& headers, bool end_stream) {
  response_started_ = true;
  uint32_t status = headers.status();
  out_.append(version_minor_ == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
  appendUint(out_, status);
  out_.append(" ");
  out_.append(reasonPhrase(status));
  out_.append("\r\n");
  appendHeaderLines(out_, headers);

  bool no_body_status = status < 200 || status == 204 || status == 304;
  const std::string* cl = headers.get("content-length");
  if (no_body_status) {
    // These responses never carry a body or framing headers.
  } else if (cl != nullptr) {
    out_.append("content-length: ");
    out_.append(*cl);
    out_.append("\r\n");
  } else if (end_stream) {
    if (!request_is_head_)
      out_.append("content-length: 0\r\n");
  } else if (version_minor_ >= 1) {
    chunked_response_ = !request_is_head_;
    if (chunked_response_)
      out_.append("transfer-encoding: chunked\r\n");
  } else {
    // HTTP/1.0 client and unknown length: the body ends when we close.
    close_after_response_ = true;
  }
  if (!keepAlive()) {
    out_.append("connection: close\r\n");
  } else if (version_minor_ == 0) {
    out_.append("connection: keep-alive\r\n");
  }
  out_.append("\r\n");
  if (end_stream)
    response_complete_ = true;
  connection_.write(out_);
}

void ServerCodec::encodeData(Buffer& data, bool end_stream) {
  if (request_is_head_)
    data.clear();
  else
    appendBody(out_, data, chunked_response_, end_stream);
  if (end_stream)
    response_complete_ = true;
  connection_.write(out_);
}

void ServerCodec::encodeTrailers(const HeaderMap& trailers) {
  if (chunked_response_) {
    appendChunkedTrailers(out_, trailers);
    connection_.write(out_);
  }
  response_complete_ = true;
}

// ---------------------------------------------------------------------------------------------
// Client side

ClientCodec::ClientCodec(network::Connection& connection, ParserLimits limits)
    : connection_(connection), parser_(Parser::Type::Response, *this, limits) {}

void ClientCodec::startRequest(ResponseDecoder& decoder) {
  decoder_ = &decoder;
  request_complete_ = false;
  response_complete_ = false;
  response_started_ = false;
  has_trailers_ = false;
  in_1xx_ = false;
  parser_.resume();
}

void ClientCodec::encodeHeaders(const HeaderMap& headers, bool end_stream) {
  std::string_view method = headers.method();
  parser_.setResponseToHead(method == "HEAD");
  out_.append(method);
  out_.append(" ");
  std::string_view path = headers.path();
  out_.append(path.empty() ? std::string_view("/") : path);
  out_.append(" HTTP/1.1\r\nhost: ");
  out_.append(headers.authority());
  out_.append("\r\n");
  appendHeaderLines(out_, headers);
  if (const std::string* cl = headers.get("content-length")) {
    out_.append("content-length: ");
    out_.append(*cl);
    out_.append("\r\n");
    chunked_request_ = false;
  } else if (end_stream) {
    // Only methods that usually carry a body get an explicit zero length.
    if (method == "POST" || method == "PUT" || method == "PATCH")
      out_.append("content-length: 0\r\n");
    chunked_request_ = false;
  } else {
    chunked_request_ = true;
    out_.append("transfer-encoding: chunked\r\n");
  }
  out_.append("\r\n");
  if (end_stream)
    request_complete_ = true;
  connection_.write(out_);
}

void ClientCodec::encodeData(Buffer& data, bool end_stream) {
  appendBody(out_, data, chunked_request_, end_stream);
  if (end_stream)
    request_complete_ = true;
  connection_.write(out_);
}

void ClientCodec::encodeTrailers(const HeaderMap& trailers) {
  if (chunked_request_) {
    appendChunkedTrailers(out_, trailers);
    connection_.write(out_);
  }
  request_complete_ = true;
}

bool ClientCodec::dispatch(Buffer& data) {
  while (!data.empty()) {
    if (response_complete_) {
      // Bytes after a complete response on a connection we did not ask more of: the peer is
      // misbehaving; the pool will not reuse this connection.
      keep_alive_ = false;
      data.clear();
      return true;
    }
    size_t n = parser_.execute(data.data(), data.size());
    data.drain(n);
    ParseError e = parser_.error();
    if (e == ParseError::Paused) {
      parser_.resume();
      continue;
    }
    if (e != ParseError::None)
      return false;
    if (n == 0)
      break;
  }
  return true;
}

bool ClientCodec::onEof() {
  if (response_complete_)
    return true;
  if (!parser_.messageInProgress())
    return false; // closed before any response byte
  return parser_.onEof() == ParseError::None && response_complete_;
}

bool ClientCodec::onHeaders(HeaderMap&& headers, const MessageInfo& info) {
  uint32_t status = headers.status();
  if (status >= 100 && status < 200) {
    in_1xx_ = true;
    if (decoder_ && status != 101)
      decoder_->decode1xxHeaders(std::move(headers));
    return true;
  }
  response_started_ = true;
  keep_alive_ = info.keep_alive && !info.body_until_close;
  bool no_body = !info.chunked && !info.body_until_close && info.content_length == 0;
  end_at_headers_ = no_body;
  body_length_known_ = !info.chunked && !info.body_until_close;
  body_remaining_ = info.content_length;
  if (no_body)
    response_complete_ = true;
  if (decoder_)
    decoder_->decodeHeaders(std::move(headers), no_body);
  return true;
}

void ClientCodec::onBody(std::string_view data) {
  if (!decoder_)
    return;
  body_scratch_.append(data);
  if (body_length_known_) {
    body_remaining_ -= std::min<uint64_t>(body_remaining_, data.size());
    // The parser completes the message right after the last chunk: hand it over there, with
    // end_stream, once the codec is between messages.
    if (body_remaining_ == 0)
      return;
  }
  decoder_->decodeData(body_scratch_, false);
  body_scratch_.clear();
}

void ClientCodec::onTrailers(HeaderMap&& trailers) {
  pending_trailers_ = std::move(trailers);
  has_trailers_ = true;
}

bool ClientCodec::onMessageComplete() {
  if (in_1xx_) {
    in_1xx_ = false;
    return true; // the final response follows
  }
  bool was_end_at_headers = end_at_headers_;
  end_at_headers_ = false;
  response_complete_ = true;
  if (decoder_ && !was_end_at_headers) {
    ResponseDecoder* d = decoder_;
    if (has_trailers_) {
      d->decodeTrailers(std::move(pending_trailers_));
    } else {
      // The last Content-Length chunk, if onBody kept it, else an empty end.
      d->decodeData(body_scratch_, true);
      body_scratch_.clear();
    }
  }
  return false;
}

} // namespace wasmgate::http::http1
