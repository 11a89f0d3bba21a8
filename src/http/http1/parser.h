#pragma once

// Strict, incremental HTTP/1.x message parser (requests and responses).
//
// Bytes are pushed with execute(); the parser calls back at message boundaries. The header
// block is gathered until the blank line and parsed in one pass; bodies (Content-Length,
// chunked, or until close for responses) are delivered as they arrive, never buffered whole.
// Anything ambiguous that could let two parsers disagree on message boundaries (request
// smuggling) is an error, not a guess.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/header_map.h"

namespace wasmgate::http::http1 {

enum class ParseError {
  None,
  BadRequestLine,       // 400
  BadStatusLine,        // (responses) -> 502 upstream protocol error
  BadVersion,           // 400 (505 would also do; Envoy answers 400 "Bad Request")
  BadHeader,            // 400: invalid name/value char, missing colon, space before colon
  ObsFold,              // 400: line folding is rejected
  BareLineEnding,       // 400: CR without LF or LF without CR
  HeadersTooLarge,      // 431: header block bytes or header count over the limit
  BadContentLength,     // 400: not digits, overflow, or several differing values
  ContentLengthAndTransferEncoding, // 400: both present (smuggling)
  BadTransferEncoding,  // 400: TE on HTTP/1.0, "chunked" not last, repeated chunked
  UnsupportedTransferEncoding, // 501: a coding other than chunked
  BadChunk,             // 400: bad chunk size/extension/terminator
  MissingHost,          // 400: HTTP/1.1 request without Host
  DuplicateHost,        // 400
  Paused,               // not an error: execute() stopped because a callback asked to pause
};

// HTTP status code to answer a request-parse error with (400, 431, 501).
uint32_t statusForError(ParseError e);
const char* errorName(ParseError e);

struct ParserLimits {
  size_t max_header_bytes = 60 * 1024; // start line + all header lines (Envoy: 60 KiB)
  size_t max_headers = 100;
};

// What the parser learned from the start line and framing headers.
struct MessageInfo {
  uint8_t version_minor = 1;  // HTTP/1.<minor>
  bool keep_alive = true;     // per version default and Connection header
  bool chunked = false;       // Transfer-Encoding: chunked
  bool has_content_length = false;
  uint64_t content_length = 0;
  bool expect_continue = false; // request had "Expect: 100-continue"
  bool upgrade = false;         // Connection: upgrade with Upgrade header
  bool body_until_close = false; // response framed by connection close
};

class ParserCallbacks {
public:
  virtual ~ParserCallbacks() = default;
  // Called with the complete header block. Requests carry :method, :path, :authority (from Host,
  // or from an absolute-form target, in which case :scheme is set too); responses carry :status.
  // Header names are lower-case, values trimmed of surrounding whitespace. Return false to pause
  // the parser right after this call (execute() returns with error() == Paused).
  virtual bool onHeaders(HeaderMap&& headers, const MessageInfo& info) = 0;
  virtual void onBody(std::string_view data) = 0;
  virtual void onTrailers(HeaderMap&& trailers) = 0;
  // Called at the end of each message. Return false to pause the parser right after it (the
  // server does so to answer pipelined requests one at a time).
  virtual bool onMessageComplete() = 0;
};

class Parser {
public:
  enum class Type { Request, Response };
  Parser(Type type, ParserCallbacks& callbacks, ParserLimits limits = {});

  // Consumes bytes; returns how many were consumed. Stops early on error or pause; check error().
  // After a pause, call resume() and execute() again with the unconsumed bytes.
  size_t execute(const char* data, size_t len);
  // Signals end of input (peer closed). Completes a body framed by close; returns an error if a
  // message was cut short (ParseError::None when the connection ended cleanly between messages).
  ParseError onEof();

  void resume();
  ParseError error() const { return error_; }
  // A short text saying what exactly was wrong (for logs and response details).
  const std::string& errorDetail() const { return error_detail_; }

  // Response parsing only: the response being parsed answers a HEAD (no body whatever the
  // headers say) or a CONNECT. Set before the response's bytes are executed.
  void setResponseToHead(bool head) { response_to_head_ = head; }

  // True between the first byte of a message and its end.
  bool messageInProgress() const { return state_ != State::Idle; }

private:
  enum class State { Idle, Headers, Body, ChunkSize, ChunkData, ChunkDataEnd, Trailers, BodyUntilClose };
  // Position inside a chunk-size line: digits, then optional ";name[=value]" extensions.
  enum class ChunkLine : uint8_t {
    Digits, BwsBeforeSemi, ExtPreName, ExtName, ExtBwsAfterName, ExtPreValue, ExtToken,
    ExtQuoted, ExtQuotedEscape, ExtAfterQuoted, Lf
  };
  // One header line of the block being parsed, viewing the block's bytes.
  struct Field {
    std::string_view name;
    std::string_view value;
    uint8_t kind; // FieldKind in parser.cc
  };

  size_t parseHeaderBlock(const char* data, size_t len);
  size_t findBlockEnd(const char* buf, size_t size);
  void resetBlockScan();
  bool parseFieldLines(std::string_view block, size_t pos);
  bool finishHeaders(std::string_view block);
  bool finishTrailers(std::string_view block);
  size_t parseChunkLine(const char* data, size_t len);
  void fail(ParseError e, std::string detail);
  bool completeMessage();

  Type type_;
  ParserCallbacks& callbacks_;
  ParserLimits limits_;
  State state_ = State::Idle;
  ParseError error_ = ParseError::None;
  std::string error_detail_;
  std::string header_buf_;        // partial header/trailer block across execute() calls
  // Scan state of the block being gathered, as offsets into the block (kept across calls so
  // each byte is looked at once).
  size_t scan_pos_ = 0;
  size_t scan_line_start_ = 0;
  size_t scan_lines_ = 0;         // complete non-empty lines seen so far
  std::vector<Field> fields_;     // reused per block to avoid reallocating
  uint64_t body_remaining_ = 0;   // Content-Length bytes or current chunk bytes left; in Body
                                  // state 0 means "completion pending" (paused after onHeaders)
  ChunkLine chunk_line_ = ChunkLine::Digits;
  uint8_t chunk_digits_ = 0;
  size_t chunk_line_bytes_ = 0;
  bool chunk_cr_seen_ = false;    // ChunkDataEnd: the CR after chunk data was consumed
  bool idle_cr_ = false;          // Idle: a CR of a leading empty line was consumed
  uint32_t empty_lines_ = 0;      // leading empty lines skipped before this start line
  bool response_to_head_ = false;
  MessageInfo info_;
};

} // namespace wasmgate::http::http1
