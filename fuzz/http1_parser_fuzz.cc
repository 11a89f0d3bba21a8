// libFuzzer target for the HTTP/1 parser. Each input is parsed as a request stream and as a
// response stream, once in a single execute() call and again split (at a point derived from
// the first byte, and byte by byte for small inputs). Callbacks check invariants and abort on
// a violation; all runs must observe the same callbacks and the same final error.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "http/http1/parser.h"

namespace {

using wasmgate::http::HeaderMap;
using wasmgate::http::http1::MessageInfo;
using wasmgate::http::http1::ParseError;
using wasmgate::http::http1::Parser;
using wasmgate::http::http1::ParserCallbacks;
using wasmgate::http::http1::ParserLimits;

bool isTchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
    return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void checkFields(const HeaderMap& map, bool allow_pseudo) {
  for (const auto& [name, value] : map) {
    CHECK(!name.empty());
    const bool pseudo = name[0] == ':';
    CHECK(!pseudo || allow_pseudo);
    for (size_t i = pseudo ? 1 : 0; i < name.size(); ++i)
      CHECK(isTchar(name[i])); // lower-case token
    for (char c : value) {
      const unsigned char u = static_cast<unsigned char>(c);
      CHECK(u == '\t' || u >= 0x20);
      CHECK(u != 0x7f);
    }
    if (!value.empty() && !pseudo) {
      CHECK(value.front() != ' ' && value.front() != '\t');
      CHECK(value.back() != ' ' && value.back() != '\t');
    }
  }
}

class Checker : public ParserCallbacks {
public:
  Checker(Parser::Type type, bool head, bool pause_headers, bool pause_complete)
      : type_(type), head_(head), pause_headers_(pause_headers), pause_complete_(pause_complete) {}

  bool onHeaders(HeaderMap&& headers, const MessageInfo& info) override {
    CHECK(!in_message_);
    in_message_ = true;
    info_ = info;
    body_bytes_ = 0;
    checkFields(headers, true);
    CHECK(!(info.chunked && info.has_content_length));
    CHECK(info.version_minor <= 1);
    if (type_ == Parser::Type::Request) {
      CHECK(headers.has(":method"));
      CHECK(!headers.has("host"));
      CHECK(headers.has(":path") || headers.method() == "CONNECT");
      CHECK(info.version_minor == 0 || headers.has(":authority"));
      CHECK(!info.body_until_close);
    } else {
      const uint32_t status = headers.status();
      CHECK(status >= 100 && status <= 999);
      no_body_ = head_ || status < 200 || status == 204 || status == 304;
      CHECK(!(no_body_ && info.body_until_close));
      CHECK(!info.body_until_close || !info.keep_alive);
    }
    log_ += "H";
    for (const auto& [n, v] : headers)
      log_ += n + "=" + v + "\n";
    log_ += std::to_string(info.keep_alive) + std::to_string(info.chunked) +
            std::to_string(info.content_length) + std::to_string(info.body_until_close);
    return !pause_headers_;
  }
  void onBody(std::string_view data) override {
    CHECK(in_message_);
    CHECK(!data.empty());
    CHECK(!no_body_);
    body_bytes_ += data.size();
    if (!info_.chunked && info_.has_content_length)
      CHECK(body_bytes_ <= info_.content_length);
    CHECK(info_.chunked || info_.has_content_length || info_.body_until_close);
    body_.append(data);
  }
  void onTrailers(HeaderMap&& trailers) override {
    CHECK(in_message_);
    CHECK(info_.chunked);
    CHECK(!trailers.empty());
    checkFields(trailers, false);
    log_ += "T";
    for (const auto& [n, v] : trailers)
      log_ += n + "=" + v + "\n";
  }
  bool onMessageComplete() override {
    CHECK(in_message_);
    if (!info_.chunked && info_.has_content_length && !no_body_)
      CHECK(body_bytes_ == info_.content_length);
    in_message_ = false;
    no_body_ = false;
    log_ += "B" + std::to_string(body_.size()) + ":" + body_ + "C";
    body_.clear();
    return !pause_complete_;
  }

  std::string log_;

private:
  Parser::Type type_;
  bool head_, pause_headers_, pause_complete_;
  bool in_message_ = false;
  bool no_body_ = false;
  MessageInfo info_;
  uint64_t body_bytes_ = 0;
  std::string body_;
};

struct Outcome {
  std::string log;
  ParseError error;
};

// Feeds data in pieces: [0, split) then the rest, or byte by byte when step == 1.
Outcome runOnce(Parser::Type type, const ParserLimits& limits, bool head, bool pause_h,
                bool pause_c, std::string_view data, size_t split, size_t step) {
  Checker cb(type, head, pause_h, pause_c);
  Parser parser(type, cb, limits);
  parser.setResponseToHead(head);
  size_t off = 0;
  auto feed = [&](size_t end) {
    int idle_rounds = 0;
    while (off < end || parser.error() == ParseError::Paused) {
      const size_t n = end - off;
      const size_t consumed = parser.execute(data.data() + off, n);
      CHECK(consumed <= n);
      off += consumed;
      if (parser.error() == ParseError::Paused) {
        parser.resume();
        continue;
      }
      if (parser.error() != ParseError::None) {
        CHECK(!parser.errorDetail().empty());
        CHECK(parser.execute(data.data() + off, end - off) == 0);
        return false;
      }
      CHECK(consumed == n);
      if (++idle_rounds > 1000000)
        fuzzViolation("no progress", "");
    }
    return true;
  };
  bool ok = true;
  if (step == 1) {
    for (size_t i = 1; ok && i <= data.size(); ++i)
      ok = feed(i);
  } else {
    ok = feed(split) && feed(data.size());
  }
  if (ok) {
    // Flush a completion left pending by a pause in onHeaders.
    for (int i = 0; i < 3; ++i) {
      parser.execute(data.data() + off, 0);
      if (parser.error() != ParseError::Paused)
        break;
      parser.resume();
    }
    ParseError eof = parser.onEof();
    if (eof != ParseError::None)
      CHECK(parser.error() == eof);
    if (parser.error() == ParseError::Paused) {
      parser.resume();
      parser.execute(data.data() + off, 0);
      parser.resume();
    }
  }
  CHECK(wasmgate::http::http1::errorName(parser.error()) != nullptr);
  const uint32_t status = wasmgate::http::http1::statusForError(parser.error());
  CHECK(status == 0 || status == 400 || status == 431 || status == 501);
  return Outcome{cb.log_, parser.error()};
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size == 0)
    return 0;
  std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const size_t split = size_t(bytes[0]) * size / 256;
  // Vary limits and pausing deterministically from the input so they get exercised too.
  ParserLimits limits;
  if (size % 5 == 0) {
    limits.max_header_bytes = 200;
    limits.max_headers = 4;
  }
  const bool pause_h = (size & 1) != 0;
  const bool pause_c = (size & 2) != 0;
  for (Parser::Type type : {Parser::Type::Request, Parser::Type::Response}) {
    const bool head = type == Parser::Type::Response && (size % 3 == 0);
    const Outcome whole = runOnce(type, limits, head, pause_h, pause_c, data, size, 0);
    const Outcome two = runOnce(type, limits, head, pause_h, pause_c, data, split, 0);
    CHECK(whole.error == two.error);
    CHECK(whole.log == two.log);
    if (size <= 1024) {
      const Outcome bytewise = runOnce(type, limits, head, !pause_h, pause_c, data, 0, 1);
      CHECK(whole.error == bytewise.error);
      // Pausing differs in this run only in when callbacks return; the observed log must match.
      CHECK(whole.log == bytewise.log);
    }
  }
  return 0;
}
