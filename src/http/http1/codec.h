#pragma once

// HTTP/1.1 codecs over a network::Connection: the server side turns request bytes into
// RequestDecoder calls and encodes the response; the client side encodes an upstream request
// and turns the response bytes into ResponseDecoder calls. Both use the strict Parser.

#include <cstdint>
#include <string>

#include "http/codec.h"
#include "http/http1/parser.h"
#include "network/connection.h"

namespace wasmgate::http::http1 {

class ServerCodecCallbacks {
public:
  virtual ~ServerCodecCallbacks() = default;
  // A new request starts; returns where its parts go.
  virtual RequestDecoder& newStream(ResponseEncoder& encoder, const MessageInfo& info) = 0;
  // The bytes could not be parsed; the connection manager answers `status` (if no response has
  // started) and closes.
  virtual void onProtocolError(uint32_t status, std::string_view details) = 0;
};

class ServerCodec : public ResponseEncoder, private ParserCallbacks {
public:
  ServerCodec(network::Connection& connection, ServerCodecCallbacks& callbacks, ParserLimits limits);

  // Parses as much of `data` as belongs to the current request (stops after one request until
  // the response is done, so pipelined requests are answered in order).
  void dispatch(Buffer& data);
  // The peer closed. Returns true if a request was cut short.
  bool onEof();
  // The response to the current request has been fully encoded: parse the next request.
  void resumeAfterResponse();
  bool requestComplete() const { return request_complete_; }
  bool requestInProgress() const { return stream_ != nullptr; }
  bool paused() const { return paused_; }
  // Whether the connection can carry another request after this response.
  bool keepAlive() const { return keep_alive_ && !close_after_response_; }
  void setCloseAfterResponse() { close_after_response_ = true; }
  bool responseStarted() const { return response_started_; }
  bool responseComplete() const { return response_complete_; }
  bool requestIsHead() const { return request_is_head_; }
  uint8_t requestVersionMinor() const { return version_minor_; }

  // ResponseEncoder
  void encode1xxHeaders(const HeaderMap& headers) override;
  void encodeHeaders(const HeaderMap& headers, bool end_stream) override;
  void encodeData(Buffer& data, bool end_stream) override;
  void encodeTrailers(const HeaderMap& trailers) override;

private:
  // ParserCallbacks
  bool onHeaders(HeaderMap&& headers, const MessageInfo& info) override;
  void onBody(std::string_view data) override;
  void onTrailers(HeaderMap&& trailers) override;
  bool onMessageComplete() override;

  network::Connection& connection_;
  ServerCodecCallbacks& callbacks_;
  Parser parser_;
  RequestDecoder* stream_ = nullptr;
  Buffer body_scratch_;
  Buffer out_;
  HeaderMap pending_trailers_;
  bool has_trailers_ = false;
  bool paused_ = false;
  bool request_complete_ = false;
  bool end_sent_at_headers_ = false;
  uint64_t body_remaining_ = 0;
  bool body_length_known_ = false;
  bool keep_alive_ = true;
  bool close_after_response_ = false;
  bool response_started_ = false;
  bool response_complete_ = false;
  bool chunked_response_ = false;
  bool request_is_head_ = false;
  uint8_t version_minor_ = 1;
};

class ClientCodec : public RequestEncoder, private ParserCallbacks {
public:
  ClientCodec(network::Connection& connection, ParserLimits limits = {});
  // Starts a new request/response exchange on this connection.
  void startRequest(ResponseDecoder& decoder);
  void detach() { decoder_ = nullptr; }
  // Returns false on a response protocol error (see errorDetail()).
  bool dispatch(Buffer& data);
  // Peer closed: completes a close-delimited body. Returns false if a response was cut short.
  bool onEof();
  const std::string& errorDetail() const { return parser_.errorDetail(); }
  bool responseComplete() const { return response_complete_; }
  bool requestComplete() const { return request_complete_; }
  // Whether the connection may be reused after this exchange.
  bool keepAlive() const { return keep_alive_; }
  bool responseStarted() const { return response_started_; }

  // RequestEncoder
  void encodeHeaders(const HeaderMap& headers, bool end_stream) override;
  void encodeData(Buffer& data, bool end_stream) override;
  void encodeTrailers(const HeaderMap& trailers) override;

private:
  bool onHeaders(HeaderMap&& headers, const MessageInfo& info) override;
  void onBody(std::string_view data) override;
  void onTrailers(HeaderMap&& trailers) override;
  bool onMessageComplete() override;

  network::Connection& connection_;
  Parser parser_;
  ResponseDecoder* decoder_ = nullptr;
  Buffer out_;
  Buffer body_scratch_;
  HeaderMap pending_trailers_;
  bool has_trailers_ = false;
  bool chunked_request_ = false;
  bool request_complete_ = false;
  bool response_complete_ = false;
  bool response_started_ = false;
  bool end_at_headers_ = false;
  bool keep_alive_ = true;
  bool in_1xx_ = false;
  // Content-Length responses: the chunk that completes the body is delivered with end_stream
  // from onMessageComplete, as Envoy does (one data callback, not a chunk and an empty end).
  bool body_length_known_ = false;
  uint64_t body_remaining_ = 0;
};

// Hop-by-hop headers (RFC 9110 7.6.1), removed when proxying in either direction, plus the
// names listed in the Connection header.
void removeHopByHopHeaders(HeaderMap& headers);
const char* reasonPhrase(uint32_t status);

} // namespace wasmgate::http::http1
