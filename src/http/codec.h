#pragma once

// The codec seam: bytes <-> header maps and body slices. HTTP/1.1 now; HTTP/2 later behind the
// same interfaces, so the connection manager and the router do not change.

#include <cstdint>
#include <string_view>

#include "common/buffer.h"
#include "common/status.h"
#include "http/header_map.h"

namespace wasmgate::http {

// Request side, implemented by the connection manager's stream.
class RequestDecoder {
public:
  virtual ~RequestDecoder() = default;
  virtual void decodeHeaders(HeaderMap&& headers, bool end_stream) = 0;
  virtual void decodeData(Buffer& data, bool end_stream) = 0;
  virtual void decodeTrailers(HeaderMap&& trailers) = 0;
};

// Response side of a downstream stream, implemented by the codec.
class ResponseEncoder {
public:
  virtual ~ResponseEncoder() = default;
  virtual void encode1xxHeaders(const HeaderMap& headers) = 0;
  virtual void encodeHeaders(const HeaderMap& headers, bool end_stream) = 0;
  virtual void encodeData(Buffer& data, bool end_stream) = 0;
  virtual void encodeTrailers(const HeaderMap& trailers) = 0;
};

// Response side of an upstream stream, implemented by the router's upstream request.
class ResponseDecoder {
public:
  virtual ~ResponseDecoder() = default;
  virtual void decode1xxHeaders(HeaderMap&& headers) = 0;
  virtual void decodeHeaders(HeaderMap&& headers, bool end_stream) = 0;
  virtual void decodeData(Buffer& data, bool end_stream) = 0;
  virtual void decodeTrailers(HeaderMap&& trailers) = 0;
};

// Request side of an upstream stream, implemented by the codec.
class RequestEncoder {
public:
  virtual ~RequestEncoder() = default;
  virtual void encodeHeaders(const HeaderMap& headers, bool end_stream) = 0;
  virtual void encodeData(Buffer& data, bool end_stream) = 0;
  virtual void encodeTrailers(const HeaderMap& trailers) = 0;
};

} // namespace wasmgate::http
