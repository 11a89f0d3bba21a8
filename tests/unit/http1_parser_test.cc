#include "http/http1/parser.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace wasmgate::http::http1 {
namespace {

using namespace std::string_literals;
using Entries = std::vector<HeaderMap::Entry>;

std::string infoString(const MessageInfo& i) {
  return "v1." + std::to_string(i.version_minor) + " ka=" + std::to_string(i.keep_alive) +
         " chunked=" + std::to_string(i.chunked) + " hascl=" + std::to_string(i.has_content_length) +
         " cl=" + std::to_string(i.content_length) + " expect=" + std::to_string(i.expect_continue) +
         " upgrade=" + std::to_string(i.upgrade) + " close=" + std::to_string(i.body_until_close);
}

// Records callbacks; body slices of one message are concatenated so that different splits of
// the input give comparable logs.
class Recorder : public ParserCallbacks {
public:
  bool onHeaders(HeaderMap&& headers, const MessageInfo& info) override {
    log.push_back("headers");
    this->headers.push_back(std::move(headers));
    infos.push_back(info);
    bodies.emplace_back();
    return !pause_on_headers;
  }
  void onBody(std::string_view data) override {
    EXPECT_FALSE(data.empty());
    if (log.empty() || log.back() != "body")
      log.push_back("body");
    bodies.back().append(data);
    ++body_calls;
  }
  void onTrailers(HeaderMap&& t) override {
    log.push_back("trailers");
    trailers.push_back(std::move(t));
  }
  bool onMessageComplete() override {
    log.push_back("complete");
    ++completed;
    return !pause_on_complete;
  }

  // A comparable summary of everything observed.
  std::string summary() const {
    std::string s;
    size_t b = 0, t = 0, h = 0;
    for (const auto& e : log) {
      s += e;
      if (e == "headers") {
        s += "[" + infoString(infos[h]) + "]";
        for (const auto& [n, v] : headers[h].entries())
          s += n + "=" + v + ";";
        ++h;
      } else if (e == "body") {
        s += "(" + bodies[b] + ")";
      } else if (e == "trailers") {
        for (const auto& [n, v] : trailers[t].entries())
          s += n + "=" + v + ";";
        ++t;
      } else if (e == "complete") {
        ++b;
      }
      s += "\n";
    }
    return s;
  }

  bool pause_on_headers = false;
  bool pause_on_complete = false;
  std::vector<std::string> log;
  std::vector<HeaderMap> headers;
  std::vector<MessageInfo> infos;
  std::vector<std::string> bodies;
  std::vector<HeaderMap> trailers;
  int completed = 0;
  int body_calls = 0;
};

// Feeds `in` in pieces of `step` bytes (0: all at once), resuming after every pause, then
// flushes a pending completion; optionally signals EOF. Returns the final error.
ParseError feed(Parser& p, std::string_view in, size_t step = 0, bool eof = false) {
  size_t off = 0;
  while (off < in.size()) {
    const size_t n = step ? std::min(step, in.size() - off) : in.size() - off;
    const size_t consumed = p.execute(in.data() + off, n);
    EXPECT_LE(consumed, n);
    off += consumed;
    if (p.error() == ParseError::Paused) {
      p.resume();
      continue;
    }
    if (p.error() != ParseError::None)
      return p.error();
    EXPECT_EQ(consumed, n);
  }
  for (int i = 0; i < 4; ++i) {
    p.execute(in.data() + off, 0);
    if (p.error() != ParseError::Paused)
      break;
    p.resume();
  }
  if (eof) {
    ParseError e = p.onEof();
    if (p.error() == ParseError::Paused) {
      p.resume();
      p.execute(in.data() + off, 0);
      p.resume();
    }
    return e;
  }
  return p.error();
}

struct RunResult {
  ParseError error;
  std::string detail;
  std::string summary;
};

RunResult run(Parser::Type type, std::string_view in, size_t step = 0, bool eof = false,
        ParserLimits limits = {}, bool head = false) {
  Recorder r;
  Parser p(type, r, limits);
  p.setResponseToHead(head);
  RunResult out;
  out.error = feed(p, in, step, eof);
  out.detail = p.errorDetail();
  out.summary = r.summary();
  return out;
}

ParseError requestError(std::string_view in, ParserLimits limits = {}) {
  Recorder r;
  Parser p(Parser::Type::Request, r, limits);
  return feed(p, in);
}

ParseError responseError(std::string_view in) {
  Recorder r;
  Parser p(Parser::Type::Response, r);
  return feed(p, in);
}

Entries entries(std::initializer_list<HeaderMap::Entry> e) { return Entries(e); }

// ---------------------------------------------------------------------------------------------
// Valid requests

TEST(Http1ParserTest, SimpleGet) {
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string_view in = "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t/1\r\n\r\n";
  EXPECT_EQ(p.execute(in.data(), in.size()), in.size());
  EXPECT_EQ(p.error(), ParseError::None);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].entries(), entries({{":method", "GET"},
                                             {":authority", "example.com"},
                                             {":path", "/index.html?x=1"},
                                             {"user-agent", "t/1"}}));
  EXPECT_FALSE(r.headers[0].has("host"));
  EXPECT_EQ(r.log, (std::vector<std::string>{"headers", "complete"}));
  EXPECT_EQ(r.infos[0].version_minor, 1);
  EXPECT_TRUE(r.infos[0].keep_alive);
  EXPECT_FALSE(r.infos[0].chunked);
  EXPECT_FALSE(r.infos[0].has_content_length);
  EXPECT_FALSE(p.messageInProgress());
  EXPECT_EQ(p.onEof(), ParseError::None);
}

TEST(Http1ParserTest, PostWithContentLengthAndValueTrimming) {
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string in = "POST /submit HTTP/1.1\r\nHOST: h\r\nContent-Length:  5 \r\nX-Empty:\r\n"
                   "X-Mixed-Case: \tA b\t \r\n\r\nhello";
  EXPECT_EQ(p.execute(in.data(), in.size()), in.size());
  EXPECT_EQ(p.error(), ParseError::None);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].entries(), entries({{":method", "POST"},
                                             {":authority", "h"},
                                             {":path", "/submit"},
                                             {"content-length", "5"},
                                             {"x-empty", ""},
                                             {"x-mixed-case", "A b"}}));
  EXPECT_TRUE(r.infos[0].has_content_length);
  EXPECT_EQ(r.infos[0].content_length, 5u);
  EXPECT_EQ(r.bodies[0], "hello");
  EXPECT_EQ(r.log, (std::vector<std::string>{"headers", "body", "complete"}));
}

TEST(Http1ParserTest, BodyDeliveredIncrementallyWithoutFramingBytes) {
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string in = "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123";
  EXPECT_EQ(p.execute(in.data(), in.size()), in.size());
  EXPECT_TRUE(p.messageInProgress());
  EXPECT_EQ(r.bodies[0], "0123");
  EXPECT_EQ(r.completed, 0);
  EXPECT_EQ(p.execute("456789GET", 9), 9u);
  EXPECT_EQ(r.bodies[0], "0123456789");
  EXPECT_EQ(r.completed, 1);
  EXPECT_TRUE(p.messageInProgress()); // "GET" of the next request is buffered
}

TEST(Http1ParserTest, ContentLengthZero) {
  RunResult res = run(Parser::Type::Request, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(res.error, ParseError::None);
  EXPECT_NE(res.summary.find("hascl=1 cl=0"), std::string::npos);
  EXPECT_NE(res.summary.find("complete"), std::string::npos);
}

TEST(Http1ParserTest, ChunkedWithExtensionsAndTrailers) {
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string in = "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5;name=value;flag\r\nhello\r\n"
                   "6 ; q=\"a \\\"quoted\\\" v\"\r\n world\r\n"
                   "A\r\n0123456789\r\n"
                   "0\r\nX-Checksum: abc\r\nX-Other:  2 \r\n\r\n";
  EXPECT_EQ(p.execute(in.data(), in.size()), in.size());
  EXPECT_EQ(p.error(), ParseError::None) << p.errorDetail();
  EXPECT_TRUE(r.infos[0].chunked);
  EXPECT_EQ(r.bodies[0], "hello world0123456789");
  ASSERT_EQ(r.trailers.size(), 1u);
  EXPECT_EQ(r.trailers[0].entries(), entries({{"x-checksum", "abc"}, {"x-other", "2"}}));
  EXPECT_EQ(r.log, (std::vector<std::string>{"headers", "body", "trailers", "complete"}));
  EXPECT_EQ(r.headers[0].getView("transfer-encoding"), "chunked");
}

TEST(Http1ParserTest, ChunkedWithoutTrailersHasNoTrailerCallback) {
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string in = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\nff\r\n" +
       std::string(255, 'z') + "\r\n0\r\n\r\n";
  EXPECT_EQ(p.execute(in.data(), in.size()), in.size());
  EXPECT_EQ(p.error(), ParseError::None);
  EXPECT_EQ(r.bodies[0], std::string(255, 'z'));
  EXPECT_TRUE(r.trailers.empty());
  EXPECT_EQ(r.log, (std::vector<std::string>{"headers", "body", "complete"}));
}

TEST(Http1ParserTest, ChunkedRepeatedAcrossHeadersRejected) {
  RunResult res = run(Parser::Type::Request,
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(res.error, ParseError::BadTransferEncoding);
}

TEST(Http1ParserTest, PipelinedRequestsPauseOnMessageComplete) {
  Recorder r;
  r.pause_on_complete = true;
  Parser p(Parser::Type::Request, r);
  std::string in = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
                   "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
                   "GET /c HTTP/1.1\r\nHost: h\r\n\r\n";
  size_t off = p.execute(in.data(), in.size());
  EXPECT_EQ(p.error(), ParseError::Paused);
  EXPECT_EQ(off, std::string_view("GET /a HTTP/1.1\r\nHost: h\r\n\r\n").size());
  EXPECT_EQ(r.completed, 1);
  EXPECT_EQ(p.execute(in.data() + off, in.size() - off), 0u); // paused: consumes nothing
  p.resume();
  off += p.execute(in.data() + off, in.size() - off);
  EXPECT_EQ(p.error(), ParseError::Paused);
  EXPECT_EQ(r.completed, 2);
  EXPECT_EQ(r.bodies[1], "abc");
  p.resume();
  off += p.execute(in.data() + off, in.size() - off);
  EXPECT_EQ(p.error(), ParseError::Paused);
  EXPECT_EQ(off, in.size());
  EXPECT_EQ(r.completed, 3);
  EXPECT_EQ(r.headers[2].path(), "/c");
  p.resume();
  EXPECT_EQ(p.onEof(), ParseError::None);
}

TEST(Http1ParserTest, PauseOnHeadersThenResumeWithNoBytesCompletes) {
  Recorder r;
  r.pause_on_headers = true;
  Parser p(Parser::Type::Request, r);
  std::string in = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  EXPECT_EQ(p.execute(in.data(), in.size()), in.size());
  EXPECT_EQ(p.error(), ParseError::Paused);
  EXPECT_EQ(r.completed, 0);
  EXPECT_TRUE(p.messageInProgress());
  p.resume();
  EXPECT_EQ(p.execute(in.data(), 0), 0u);
  EXPECT_EQ(p.error(), ParseError::None);
  EXPECT_EQ(r.completed, 1);
  EXPECT_FALSE(p.messageInProgress());
}

TEST(Http1ParserTest, PauseOnHeadersWithBody) {
  Recorder r;
  r.pause_on_headers = true;
  Parser p(Parser::Type::Request, r);
  std::string in = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok";
  size_t n = p.execute(in.data(), in.size());
  EXPECT_EQ(p.error(), ParseError::Paused);
  EXPECT_EQ(n, in.size() - 2);
  EXPECT_TRUE(r.bodies[0].empty());
  p.resume();
  EXPECT_EQ(p.execute(in.data() + n, 2), 2u);
  EXPECT_EQ(r.bodies[0], "ok");
  EXPECT_EQ(r.completed, 1);
}

TEST(Http1ParserTest, LeadingEmptyLinesSkippedButLimited) {
  RunResult ok = run(Parser::Type::Request, "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(ok.error, ParseError::None);
  EXPECT_NE(ok.summary.find("complete"), std::string::npos);
  std::string many;
  for (int i = 0; i < 20; ++i)
    many += "\r\n";
  EXPECT_EQ(requestError(many + "GET / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
  EXPECT_EQ(requestError("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::BareLineEnding);
}

TEST(Http1ParserTest, AbsoluteFormAuthorityWinsOverHost) {
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string in = "GET HTTP://upstream.example:8080/p/q?a=b HTTP/1.1\r\nHost: other\r\n\r\n";
  p.execute(in.data(), in.size());
  EXPECT_EQ(p.error(), ParseError::None) << p.errorDetail();
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].entries(), entries({{":method", "GET"},
                                             {":scheme", "http"},
                                             {":authority", "upstream.example:8080"},
                                             {":path", "/p/q?a=b"}}));
}

TEST(Http1ParserTest, AbsoluteFormEmptyPathAndQueryOnly) {
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string in = "GET https://h.example HTTP/1.1\r\n\r\nGET http://h?x=1 HTTP/1.1\r\n\r\n";
  p.execute(in.data(), in.size());
  EXPECT_EQ(p.error(), ParseError::None) << p.errorDetail();
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[0].path(), "/");
  EXPECT_EQ(r.headers[0].scheme(), "https");
  EXPECT_EQ(r.headers[0].authority(), "h.example");
  EXPECT_EQ(r.headers[1].path(), "/?x=1");
}

TEST(Http1ParserTest, AbsoluteFormRejectsUserinfoAndOtherSchemes) {
  EXPECT_EQ(requestError("GET http://user@h/ HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
  EXPECT_EQ(requestError("GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
  EXPECT_EQ(requestError("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
  EXPECT_EQ(requestError("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
}

TEST(Http1ParserTest, Connect) {
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string in = "CONNECT db.example:5432 HTTP/1.1\r\nHost: db.example:5432\r\n\r\n";
  p.execute(in.data(), in.size());
  EXPECT_EQ(p.error(), ParseError::None) << p.errorDetail();
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].entries(),
            entries({{":method", "CONNECT"}, {":authority", "db.example:5432"}}));
  EXPECT_FALSE(r.headers[0].has(":path"));
  EXPECT_EQ(requestError("CONNECT [::1]:443 HTTP/1.1\r\n\r\n"), ParseError::None);
  EXPECT_EQ(requestError("CONNECT db.example HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
  EXPECT_EQ(requestError("CONNECT /path HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
  // authority-form is only for CONNECT
  EXPECT_EQ(requestError("GET db.example:5432 HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
}

TEST(Http1ParserTest, OptionsAsterisk) {
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string in = "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n";
  p.execute(in.data(), in.size());
  EXPECT_EQ(p.error(), ParseError::None);
  EXPECT_EQ(r.headers[0].path(), "*");
  EXPECT_EQ(requestError("GET * HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
}

TEST(Http1ParserTest, Http10KeepAliveRules) {
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string in = "GET /a HTTP/1.0\r\n\r\n"
                   "GET /b HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
                   "GET /c HTTP/1.1\r\nHost: h\r\nConnection: foo, CLOSE\r\n\r\n"
                   "GET /d HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n";
  p.execute(in.data(), in.size());
  EXPECT_EQ(p.error(), ParseError::None);
  ASSERT_EQ(r.infos.size(), 4u);
  EXPECT_EQ(r.infos[0].version_minor, 0);
  EXPECT_FALSE(r.infos[0].keep_alive);
  EXPECT_FALSE(r.headers[0].has(":authority")); // HTTP/1.0 without Host is fine
  EXPECT_TRUE(r.infos[1].keep_alive);
  EXPECT_FALSE(r.infos[2].keep_alive);
  EXPECT_TRUE(r.infos[3].keep_alive);
  // The Connection header itself stays in the map; the proxy strips hop-by-hop headers.
  EXPECT_EQ(r.headers[1].getView("connection"), "Keep-Alive");
}

TEST(Http1ParserTest, ExpectContinue) {
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string in = "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx"
                   "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx"
                   "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx";
  p.execute(in.data(), in.size());
  EXPECT_EQ(p.error(), ParseError::None);
  ASSERT_EQ(r.infos.size(), 3u);
  EXPECT_TRUE(r.infos[0].expect_continue);
  EXPECT_FALSE(r.infos[1].expect_continue); // ignored for HTTP/1.0 (RFC 9110 10.1.1)
  EXPECT_FALSE(r.infos[2].expect_continue);
}

TEST(Http1ParserTest, Upgrade) {
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string in = "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n"
                   "GET /x HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n";
  p.execute(in.data(), in.size());
  ASSERT_EQ(r.infos.size(), 2u);
  EXPECT_TRUE(r.infos[0].upgrade);
  EXPECT_FALSE(r.infos[1].upgrade);
}

TEST(Http1ParserTest, IdenticalDuplicateContentLengthCollapsed) {
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string in = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nX: y\r\ncontent-length: 3, 3\r\n\r\nabc";
  p.execute(in.data(), in.size());
  EXPECT_EQ(p.error(), ParseError::None);
  EXPECT_EQ(r.headers[0].entries(), entries({{":method", "POST"},
                                             {":authority", "h"},
                                             {":path", "/"},
                                             {"content-length", "3"},
                                             {"x", "y"}}));
  EXPECT_EQ(r.bodies[0], "abc");
}

TEST(Http1ParserTest, ObsTextInValueAllowed) {
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string in = "GET / HTTP/1.1\r\nHost: h\r\nX-Latin: caf\xe9\r\n\r\n";
  p.execute(in.data(), in.size());
  EXPECT_EQ(p.error(), ParseError::None);
  EXPECT_EQ(r.headers[0].getView("x-latin"), "caf\xe9");
}

// ---------------------------------------------------------------------------------------------
// Splitting

TEST(Http1ParserTest, AnySplitGivesIdenticalCallbacks) {
  const std::vector<std::pair<Parser::Type, std::string>> cases = {
      {Parser::Type::Request,
       "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
       "POST /p HTTP/1.1\r\nHost: b\r\nContent-Length: 11\r\n\r\nhello world"
       "\r\nPUT /c HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n"
       "3;x=\"y\"\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\n"
       "GET http://abs/x HTTP/1.1\r\n\r\n"},
      {Parser::Type::Request, "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\nGET / HTTP/1.1\r\nHo"},
      {Parser::Type::Request, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcdeXX"},
      {Parser::Type::Request, "GET / HTTP/1.1\r\nHost: a\r\nBad Name: 1\r\n\r\n"},
      {Parser::Type::Request, "GET / HTTP/1.1\r\nHost: a\nX: 1\r\n\r\n"},
      {Parser::Type::Response,
       "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody"
       "HTTP/1.1 204 No Content\r\n\r\n"
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwxyz\r\n0\r\n\r\n"
       "HTTP/1.0 200 OK\r\n\r\nuntil close"},
  };
  for (const auto& [type, input] : cases) {
    const RunResult whole = run(type, input, 0, true);
    for (size_t step : {1, 2, 3, 7, 13}) {
      const RunResult split = run(type, input, step, true);
      EXPECT_EQ(split.error, whole.error) << "step " << step << " input " << input;
      EXPECT_EQ(split.summary, whole.summary) << "step " << step << " input " << input;
    }
  }
}

TEST(Http1ParserTest, ByteAtATimeWithPauses) {
  std::string in = "POST /p HTTP/1.1\r\nHost: b\r\nContent-Length: 2\r\n\r\nhi"
                   "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  Recorder r;
  r.pause_on_headers = true;
  r.pause_on_complete = true;
  Parser p(Parser::Type::Request, r);
  feed(p, in, 1);
  EXPECT_EQ(p.error(), ParseError::None);
  EXPECT_EQ(r.completed, 2);
  EXPECT_EQ(r.bodies[0], "hi");
  EXPECT_EQ(r.log, (std::vector<std::string>{"headers", "body", "complete", "headers", "complete"}));
}

// ---------------------------------------------------------------------------------------------
// Responses

TEST(Http1ParserTest, ResponseWithContentLength) {
  Recorder r;
  Parser p(Parser::Type::Response, r);
  std::string in = "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nHost: kept\r\n\r\nnop";
  p.execute(in.data(), in.size());
  EXPECT_EQ(p.error(), ParseError::None);
  EXPECT_EQ(r.headers[0].entries(),
            entries({{":status", "404"}, {"content-length", "3"}, {"host", "kept"}}));
  EXPECT_EQ(r.headers[0].status(), 404u);
  EXPECT_EQ(r.bodies[0], "nop");
  EXPECT_EQ(r.completed, 1);
}

TEST(Http1ParserTest, ResponseToHeadHasNoBody) {
  Recorder r;
  Parser p(Parser::Type::Response, r);
  p.setResponseToHead(true);
  std::string in = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
  EXPECT_EQ(p.execute(in.data(), in.size()), in.size());
  EXPECT_EQ(r.completed, 1);
  EXPECT_TRUE(r.infos[0].has_content_length);
  EXPECT_EQ(r.infos[0].content_length, 1000u);
  EXPECT_FALSE(p.messageInProgress());
}

TEST(Http1ParserTest, Response204And304HaveNoBody) {
  Recorder r;
  Parser p(Parser::Type::Response, r);
  std::string in = "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n";
  EXPECT_EQ(p.execute(in.data(), in.size()), in.size());
  EXPECT_EQ(r.completed, 2);
  EXPECT_EQ(r.body_calls, 0);
  EXPECT_FALSE(r.infos[0].body_until_close);
}

TEST(Http1ParserTest, InformationalThenFinalResponse) {
  Recorder r;
  Parser p(Parser::Type::Response, r);
  std::string in = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
                   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  EXPECT_EQ(p.execute(in.data(), in.size()), in.size());
  EXPECT_EQ(p.error(), ParseError::None);
  ASSERT_EQ(r.headers.size(), 3u);
  EXPECT_EQ(r.headers[0].status(), 100u);
  EXPECT_EQ(r.headers[1].status(), 103u);
  EXPECT_EQ(r.headers[2].status(), 200u);
  EXPECT_EQ(r.bodies[2], "ok");
  EXPECT_EQ(r.completed, 3);
}

TEST(Http1ParserTest, ResponseUntilClose) {
  Recorder r;
  Parser p(Parser::Type::Response, r);
  std::string in = "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\npart1 ";
  EXPECT_EQ(p.execute(in.data(), in.size()), in.size());
  EXPECT_TRUE(r.infos[0].body_until_close);
  EXPECT_FALSE(r.infos[0].keep_alive);
  EXPECT_EQ(p.execute("part2", 5), 5u);
  EXPECT_EQ(r.completed, 0);
  EXPECT_TRUE(p.messageInProgress());
  EXPECT_EQ(p.onEof(), ParseError::None);
  EXPECT_EQ(r.completed, 1);
  EXPECT_EQ(r.bodies[0], "part1 part2");
  EXPECT_EQ(p.error(), ParseError::None);
}

TEST(Http1ParserTest, ResponseUntilCloseEofWhilePaused) {
  Recorder r;
  r.pause_on_headers = true;
  Parser p(Parser::Type::Response, r);
  std::string in = "HTTP/1.1 200 OK\r\n\r\n";
  p.execute(in.data(), in.size());
  EXPECT_EQ(p.error(), ParseError::Paused);
  EXPECT_EQ(p.onEof(), ParseError::None);
  EXPECT_EQ(r.completed, 0);
  p.resume();
  p.execute(in.data(), 0);
  EXPECT_EQ(r.completed, 1);
}

TEST(Http1ParserTest, ChunkedResponseAndNoReasonPhrase) {
  Recorder r;
  Parser p(Parser::Type::Response, r);
  std::string in = "HTTP/1.1 200\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                   "HTTP/1.1 201 \r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(p.execute(in.data(), in.size()), in.size());
  EXPECT_EQ(p.error(), ParseError::None) << p.errorDetail();
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[0].status(), 200u);
  EXPECT_EQ(r.bodies[0], "abc");
  EXPECT_EQ(r.headers[1].status(), 201u);
}

TEST(Http1ParserTest, BadStatusLines) {
  EXPECT_EQ(responseError("HTTP/1.1 20 OK\r\n\r\n"), ParseError::BadStatusLine);
  EXPECT_EQ(responseError("HTTP/1.1 2000 OK\r\n\r\n"), ParseError::BadStatusLine);
  EXPECT_EQ(responseError("HTTP/1.1 099 OK\r\n\r\n"), ParseError::BadStatusLine);
  EXPECT_EQ(responseError("HTTP/2.0 200 OK\r\n\r\n"), ParseError::BadStatusLine);
  EXPECT_EQ(responseError("HTTP/1.1  200 OK\r\n\r\n"), ParseError::BadStatusLine);
  EXPECT_EQ(responseError("ICY 200 OK\r\n\r\n"), ParseError::BadStatusLine);
  EXPECT_EQ(responseError("HTTP/1.1 200 O\x01K\r\n\r\n"), ParseError::BadStatusLine);
  EXPECT_EQ(responseError("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            ParseError::ContentLengthAndTransferEncoding);
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST(Http1ParserTest, BadMethodCharacters) {
  EXPECT_EQ(requestError("G(ET / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
  EXPECT_EQ(requestError("G\x01T / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
  EXPECT_EQ(requestError(" GET / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
}

TEST(Http1ParserTest, DoubleSpacesAndBadTargets) {
  EXPECT_EQ(requestError("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
  EXPECT_EQ(requestError("GET /  HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
  EXPECT_EQ(requestError("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
  EXPECT_EQ(requestError("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
  EXPECT_EQ(requestError("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
  EXPECT_EQ(requestError("GET /\r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
}

TEST(Http1ParserTest, BadVersions) {
  EXPECT_EQ(requestError("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), ParseError::BadVersion);
  EXPECT_EQ(requestError("GET / HTTP/1.2\r\nHost: h\r\n\r\n"), ParseError::BadVersion);
  EXPECT_EQ(requestError("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), ParseError::BadVersion);
  EXPECT_EQ(requestError("GET / http/1.1\r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
  EXPECT_EQ(requestError("GET / HTTP/1\r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
  EXPECT_EQ(requestError("GET / FOO\r\nHost: h\r\n\r\n"), ParseError::BadRequestLine);
}

TEST(Http1ParserTest, HeaderNameErrors) {
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string in = "GET / HTTP/1.1\r\nHost: h\r\nX-Fo o: bar\r\n\r\n";
  p.execute(in.data(), in.size());
  EXPECT_EQ(p.error(), ParseError::BadHeader);
  EXPECT_EQ(p.errorDetail(), "invalid character in header name 'X-Fo o'");
  EXPECT_TRUE(r.headers.empty());

  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), ParseError::BadHeader);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: h\r\nX\t: 1\r\n\r\n"), ParseError::BadHeader);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: h\r\n: empty\r\n\r\n"), ParseError::BadHeader);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n"), ParseError::BadHeader);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: h\r\nX(y): 1\r\n\r\n"), ParseError::BadHeader);
}

TEST(Http1ParserTest, ObsFoldRejected) {
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"), ParseError::ObsFold);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n"), ParseError::ObsFold);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\n Host: h\r\n\r\n"), ParseError::ObsFold);
}

TEST(Http1ParserTest, BareLineEndings) {
  EXPECT_EQ(requestError("GET / HTTP/1.1\nHost: h\r\n\r\n"), ParseError::BareLineEnding);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: h\n\r\n"), ParseError::BareLineEnding);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: h\r\n\n"), ParseError::BareLineEnding);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n"), ParseError::BareLineEnding);
  EXPECT_EQ(requestError("GET / HTTP/1.1\rHost: h\r\n\r\n"), ParseError::BareLineEnding);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\r\n\r\n"), ParseError::BareLineEnding);
  EXPECT_EQ(requestError("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::BareLineEnding);
  // A bare LF is caught as soon as it arrives, without waiting for the block to end.
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string in = "GET / HTTP/1.1\r\nX: 1\nY: 2";
  p.execute(in.data(), in.size());
  EXPECT_EQ(p.error(), ParseError::BareLineEnding);
}

TEST(Http1ParserTest, ControlCharactersInValue) {
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"s),
            ParseError::BadHeader);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n"), ParseError::BadHeader);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: h\r\nX: a\x0b\r\n\r\n"), ParseError::BadHeader);
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string in = "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"s;
  p.execute(in.data(), in.size());
  EXPECT_EQ(p.errorDetail(), "invalid character 0x00 in value of header 'X'");
}

TEST(Http1ParserTest, HeadersTooLargeBytes) {
  ParserLimits limits;
  limits.max_header_bytes = 64;
  std::string ok = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  EXPECT_EQ(requestError(ok, limits), ParseError::None);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(60, 'a') + "\r\n\r\n", limits),
            ParseError::HeadersTooLarge);
  // Exactly at the limit is accepted; one byte over is not.
  std::string exact = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
  exact += std::string(64 - exact.size() - 4, 'a') + "\r\n\r\n";
  ASSERT_EQ(exact.size(), 64u);
  EXPECT_EQ(requestError(exact, limits), ParseError::None);
  std::string over = exact;
  over.insert(over.find('a'), "a");
  EXPECT_EQ(requestError(over, limits), ParseError::HeadersTooLarge);
  for (size_t step : {1, 5}) {
    EXPECT_EQ(run(Parser::Type::Request, exact, step, false, limits).error, ParseError::None);
    EXPECT_EQ(run(Parser::Type::Request, over, step, false, limits).error, ParseError::HeadersTooLarge);
  }
}

TEST(Http1ParserTest, NeverEndingHeaderRejectedEarly) {
  ParserLimits limits;
  limits.max_header_bytes = 1024;
  Recorder r;
  Parser p(Parser::Type::Request, r, limits);
  std::string start = "GET / HTTP/1.1\r\nX: ";
  p.execute(start.data(), start.size());
  std::string chunk(100, 'a');
  size_t fed = start.size();
  while (p.error() == ParseError::None && fed < 100000) {
    p.execute(chunk.data(), chunk.size());
    fed += chunk.size();
  }
  EXPECT_EQ(p.error(), ParseError::HeadersTooLarge);
  EXPECT_LE(fed, 1024u + 100u);
  EXPECT_EQ(p.execute(chunk.data(), chunk.size()), 0u); // failed parsers consume nothing
  EXPECT_EQ(p.onEof(), ParseError::HeadersTooLarge);
}

TEST(Http1ParserTest, TooManyHeaders) {
  ParserLimits limits;
  limits.max_headers = 3;
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", limits), ParseError::None);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits),
            ParseError::HeadersTooLarge);
  // Trailers have the same limit.
  EXPECT_EQ(requestError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
                         "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
                         limits),
            ParseError::HeadersTooLarge);
}

TEST(Http1ParserTest, ContentLengthAndTransferEncoding) {
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string in = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n";
  p.execute(in.data(), in.size());
  EXPECT_EQ(p.error(), ParseError::ContentLengthAndTransferEncoding);
  EXPECT_EQ(p.errorDetail(), "both Content-Length and Transfer-Encoding present");
}

TEST(Http1ParserTest, ContentLengthErrors) {
  const std::string pre = "POST / HTTP/1.1\r\nHost: h\r\n";
  EXPECT_EQ(requestError(pre + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n"), ParseError::BadContentLength);
  EXPECT_EQ(requestError(pre + "Content-Length: 5, 6\r\n\r\n"), ParseError::BadContentLength);
  EXPECT_EQ(requestError(pre + "Content-Length: 5,\r\n\r\n"), ParseError::BadContentLength);
  EXPECT_EQ(requestError(pre + "Content-Length: abc\r\n\r\n"), ParseError::BadContentLength);
  EXPECT_EQ(requestError(pre + "Content-Length: +5\r\n\r\n"), ParseError::BadContentLength);
  EXPECT_EQ(requestError(pre + "Content-Length: -1\r\n\r\n"), ParseError::BadContentLength);
  EXPECT_EQ(requestError(pre + "Content-Length: 1 2\r\n\r\n"), ParseError::BadContentLength);
  EXPECT_EQ(requestError(pre + "Content-Length: 0x10\r\n\r\n"), ParseError::BadContentLength);
  EXPECT_EQ(requestError(pre + "Content-Length:\r\n\r\n"), ParseError::BadContentLength);
  EXPECT_EQ(requestError(pre + "Content-Length: 9223372036854775808\r\n\r\n"), ParseError::BadContentLength);
  EXPECT_EQ(requestError(pre + "Content-Length: 99999999999999999999999\r\n\r\n"), ParseError::BadContentLength);
  // The largest accepted value.
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string in = pre + "Content-Length: 9223372036854775807\r\n\r\nab";
  p.execute(in.data(), in.size());
  EXPECT_EQ(p.error(), ParseError::None);
  EXPECT_EQ(r.infos[0].content_length, 9223372036854775807ull);
}

TEST(Http1ParserTest, TransferEncodingErrors) {
  const std::string pre = "POST / HTTP/1.1\r\nHost: h\r\n";
  EXPECT_EQ(requestError("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            ParseError::BadTransferEncoding);
  EXPECT_EQ(requestError(pre + "Transfer-Encoding: chunked, gzip\r\n\r\n"), ParseError::BadTransferEncoding);
  EXPECT_EQ(requestError(pre + "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n"),
            ParseError::BadTransferEncoding);
  EXPECT_EQ(requestError(pre + "Transfer-Encoding: chunked, chunked\r\n\r\n"), ParseError::BadTransferEncoding);
  EXPECT_EQ(requestError(pre + "Transfer-Encoding: chunked;a=b\r\n\r\n"), ParseError::BadTransferEncoding);
  EXPECT_EQ(requestError(pre + "Transfer-Encoding: \"chunked\"\r\n\r\n"), ParseError::BadTransferEncoding);
  EXPECT_EQ(requestError(pre + "Transfer-Encoding: gzip\r\n\r\n"), ParseError::UnsupportedTransferEncoding);
  EXPECT_EQ(requestError(pre + "Transfer-Encoding: identity\r\n\r\n"), ParseError::UnsupportedTransferEncoding);
  EXPECT_EQ(requestError(pre + "Transfer-Encoding: gzip, chunked\r\n\r\n"), ParseError::UnsupportedTransferEncoding);
  EXPECT_EQ(statusForError(ParseError::UnsupportedTransferEncoding), 501u);
  EXPECT_EQ(responseError("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
            ParseError::BadTransferEncoding);
}

TEST(Http1ParserTest, ChunkErrors) {
  const std::string pre = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(requestError(pre + "g\r\n"), ParseError::BadChunk);
  EXPECT_EQ(requestError(pre + "\r\n"), ParseError::BadChunk);
  EXPECT_EQ(requestError(pre + "-1\r\n"), ParseError::BadChunk);
  EXPECT_EQ(requestError(pre + "0x5\r\n"), ParseError::BadChunk);
  EXPECT_EQ(requestError(pre + "10000000000000000\r\n"), ParseError::BadChunk);  // 17 digits
  EXPECT_EQ(requestError(pre + "8000000000000000\r\n"), ParseError::BadChunk);   // > 2^63-1
  EXPECT_EQ(requestError(pre + "00000000000000001\r\n"), ParseError::BadChunk);  // 17 digits
  EXPECT_EQ(requestError(pre + "3\r\nabcX\r\n0\r\n\r\n"), ParseError::BadChunk);   // missing CRLF
  EXPECT_EQ(requestError(pre + "3\r\nabc\rX0\r\n\r\n"), ParseError::BadChunk);
  EXPECT_EQ(requestError(pre + "3\r\nabc\n0\r\n\r\n"), ParseError::BadChunk);
  EXPECT_EQ(requestError(pre + "3 \r\nabc\r\n0\r\n\r\n"), ParseError::BadChunk);   // space before CRLF
  EXPECT_EQ(requestError(pre + "3\t\r\nabc\r\n0\r\n\r\n"), ParseError::BadChunk);
  EXPECT_EQ(requestError(pre + "3;a=b \r\nabc\r\n0\r\n\r\n"), ParseError::BadChunk);
  EXPECT_EQ(requestError(pre + "3\nabc\r\n0\r\n\r\n"), ParseError::BadChunk);     // bare LF
  EXPECT_EQ(requestError(pre + "3\rabc\r\n0\r\n\r\n"), ParseError::BadChunk);     // bare CR
  EXPECT_EQ(requestError(pre + "3;\r\nabc\r\n0\r\n\r\n"), ParseError::BadChunk);  // empty ext name
  EXPECT_EQ(requestError(pre + "3;a=\"x\ny\"\r\nabc\r\n0\r\n\r\n"), ParseError::BadChunk);
  EXPECT_EQ(requestError(pre + "3;a=\x01\r\nabc\r\n0\r\n\r\n"), ParseError::BadChunk);
  EXPECT_EQ(requestError(pre + "3;" + std::string(5000, 'a') + "\r\nabc\r\n0\r\n\r\n"), ParseError::BadChunk);
  EXPECT_EQ(requestError(pre + "0\r\nX: 1\r\n\r\n"), ParseError::None);
  EXPECT_EQ(requestError(pre + "3 ;a = b ; c\r\nabc\r\n0\r\n\r\n"), ParseError::None); // BWS
  EXPECT_EQ(requestError(pre + "0\r\nBad Trailer: 1\r\n\r\n"), ParseError::BadHeader);
  EXPECT_EQ(requestError(pre + "0\r\n\n"), ParseError::BareLineEnding);
  EXPECT_EQ(requestError(pre + "0\r\nX: 1\n\r\n"), ParseError::BareLineEnding);
}

TEST(Http1ParserTest, HostRules) {
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\n\r\n"), ParseError::MissingHost);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), ParseError::DuplicateHost);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: a\r\nHOST: b\r\n\r\n"), ParseError::DuplicateHost);
  EXPECT_EQ(requestError("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), ParseError::DuplicateHost);
  EXPECT_EQ(requestError("GET / HTTP/1.0\r\n\r\n"), ParseError::None);
  EXPECT_EQ(requestError("GET http://a/ HTTP/1.1\r\n\r\n"), ParseError::None);
  EXPECT_EQ(statusForError(ParseError::MissingHost), 400u);
  // Host values must be a valid authority.
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), ParseError::BadHeader);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: user@h\r\n\r\n"), ParseError::BadHeader);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: h/x\r\n\r\n"), ParseError::BadHeader);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: h:port\r\n\r\n"), ParseError::BadHeader);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), ParseError::None);
  EXPECT_EQ(requestError("GET / HTTP/1.1\r\nHost: h.example:80\r\n\r\n"), ParseError::None);
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string in = "GET / HTTP/1.1\r\nHost:\r\n\r\n";
  p.execute(in.data(), in.size());
  EXPECT_EQ(p.error(), ParseError::None); // empty Host is valid
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_TRUE(r.headers[0].has(":authority"));
  EXPECT_EQ(r.headers[0].authority(), "");
}

TEST(Http1ParserTest, TruncatedMessagesAtEof) {
  auto eofError = [](Parser::Type type, std::string_view in) {
    Recorder r;
    Parser p(type, r);
    p.execute(in.data(), in.size());
    EXPECT_EQ(p.error(), ParseError::None);
    ParseError e = p.onEof();
    EXPECT_EQ(p.error(), e);
    return e;
  };
  EXPECT_EQ(eofError(Parser::Type::Request, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc"),
            ParseError::BadContentLength);
  EXPECT_EQ(eofError(Parser::Type::Request, "GET / HTT"), ParseError::BadRequestLine);
  EXPECT_EQ(eofError(Parser::Type::Response, "HTTP/1.1 2"), ParseError::BadStatusLine);
  EXPECT_EQ(eofError(Parser::Type::Request, "GET / HTTP/1.1\r\nHost: h\r\n"), ParseError::BadHeader);
  EXPECT_EQ(eofError(Parser::Type::Request,
                     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"),
            ParseError::BadChunk);
  EXPECT_EQ(eofError(Parser::Type::Request,
                     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"),
            ParseError::BadChunk);
  EXPECT_EQ(eofError(Parser::Type::Response,
                     "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"),
            ParseError::BadContentLength);
  EXPECT_EQ(eofError(Parser::Type::Request, ""), ParseError::None);
  EXPECT_EQ(eofError(Parser::Type::Request, "GET / HTTP/1.1\r\nHost: h\r\n\r\n\r"), ParseError::None);
}

TEST(Http1ParserTest, ErrorIsSticky) {
  Recorder r;
  Parser p(Parser::Type::Request, r);
  std::string bad = "GET / HTTP/1.1\r\nHost: h\r\nX : 1\r\n\r\n";
  p.execute(bad.data(), bad.size());
  EXPECT_EQ(p.error(), ParseError::BadHeader);
  const std::string detail = p.errorDetail();
  EXPECT_FALSE(detail.empty());
  std::string good = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  EXPECT_EQ(p.execute(good.data(), good.size()), 0u);
  p.resume(); // does not clear real errors
  EXPECT_EQ(p.error(), ParseError::BadHeader);
  EXPECT_EQ(p.errorDetail(), detail);
  EXPECT_TRUE(r.headers.empty());
}

TEST(Http1ParserTest, StatusForErrorAndNames) {
  EXPECT_EQ(statusForError(ParseError::None), 0u);
  EXPECT_EQ(statusForError(ParseError::Paused), 0u);
  EXPECT_EQ(statusForError(ParseError::HeadersTooLarge), 431u);
  EXPECT_EQ(statusForError(ParseError::UnsupportedTransferEncoding), 501u);
  for (ParseError e : {ParseError::BadRequestLine, ParseError::BadStatusLine, ParseError::BadVersion,
                       ParseError::BadHeader, ParseError::ObsFold, ParseError::BareLineEnding,
                       ParseError::BadContentLength, ParseError::ContentLengthAndTransferEncoding,
                       ParseError::BadTransferEncoding, ParseError::BadChunk, ParseError::MissingHost,
                       ParseError::DuplicateHost})
    EXPECT_EQ(statusForError(e), 400u) << errorName(e);
  EXPECT_STREQ(errorName(ParseError::BadRequestLine), "bad_request_line");
  EXPECT_STREQ(errorName(ParseError::HeadersTooLarge), "headers_too_large");
  EXPECT_STREQ(errorName(ParseError::ContentLengthAndTransferEncoding),
               "content_length_and_transfer_encoding");
  EXPECT_STREQ(errorName(ParseError::None), "none");
}

} // namespace
} // namespace wasmgate::http::http1
