// The connection manager end to end without a network: a real Dispatcher on its own thread, a
// real network::Connection over one end of a socketpair(), test filters (and a terminal filter
// that answers by itself instead of a router), and raw HTTP/1.1 bytes from the other end.

#include "http/conn_manager.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "event/dispatcher.h"
#include "network/connection.h"
#include "stats/stats.h"
#include "upstream/cluster_manager.h"

namespace wasmgate::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ---- what the filters saw (written on the loop thread, read by the test) ----------------------

class Recorder {
public:
  void add(std::string e) {
    std::lock_guard<std::mutex> l(mu_);
    events_.push_back(std::move(e));
  }
  std::vector<std::string> events() {
    std::lock_guard<std::mutex> l(mu_);
    return events_;
  }
  // Events starting with `prefix`, in order.
  std::vector<std::string> with(std::string_view prefix) {
    std::vector<std::string> out;
    for (auto& e : events())
      if (e.rfind(prefix, 0) == 0)
        out.push_back(e);
    return out;
  }

private:
  std::mutex mu_;
  std::vector<std::string> events_;
};
using RecorderPtr = std::shared_ptr<Recorder>;

// ---- test filters ---------------------------------------------------------------------------------

class PassDecoder : public StreamDecoderFilter {
public:
  FilterHeadersStatus decodeHeaders(HeaderMap&, bool) override { return FilterHeadersStatus::Continue; }
  FilterDataStatus decodeData(Buffer&, bool) override { return FilterDataStatus::Continue; }
  FilterTrailersStatus decodeTrailers(HeaderMap&) override { return FilterTrailersStatus::Continue; }
  void setDecoderFilterCallbacks(StreamDecoderFilterCallbacks& cb) override { cb_ = &cb; }

protected:
  StreamDecoderFilterCallbacks* cb_ = nullptr;
};

class PassEncoder : public StreamEncoderFilter {
public:
  FilterHeadersStatus encodeHeaders(HeaderMap&, bool) override { return FilterHeadersStatus::Continue; }
  FilterDataStatus encodeData(Buffer&, bool) override { return FilterDataStatus::Continue; }
  FilterTrailersStatus encodeTrailers(HeaderMap&) override { return FilterTrailersStatus::Continue; }
  void setEncoderFilterCallbacks(StreamEncoderFilterCallbacks& cb) override { cb_ = &cb; }

protected:
  StreamEncoderFilterCallbacks* cb_ = nullptr;
};

// The last decoder filter: answers by itself once the request is complete. Echoes request
// headers named x-* (as echo-x-*), the path, the request body size and how many request
// trailers it got.
class TerminalFilter : public StreamDecoderFilter {
public:
  struct Options {
    std::string body = "hello world";
    bool content_length = true; // else the length is unknown (chunked on the wire)
    size_t chunks = 1;          // response body split into this many encodeData() calls
    bool early_headers = false; // respond at request headers, echo the request body as it comes
  };
  TerminalFilter(RecorderPtr rec, Options o) : rec_(std::move(rec)), o_(std::move(o)) {}

  FilterHeadersStatus decodeHeaders(HeaderMap& h, bool end_stream) override {
    rec_->add("terminal:headers" + std::string(end_stream ? "!" : ""));
    request_ = h;
    if (o_.early_headers) {
      HeaderMap r;
      r.add(":status", "200");
      cb_->encodeHeaders(std::move(r), false, "test_early");
    }
    if (end_stream)
      respond();
    return FilterHeadersStatus::StopIteration;
  }
  FilterDataStatus decodeData(Buffer& d, bool end_stream) override {
    rec_->add("terminal:data:" + std::to_string(d.size()) + (end_stream ? "!" : ""));
    body_bytes_ += d.size();
    if (o_.early_headers && !destroyed_) {
      cb_->encodeData(d, end_stream);
      return FilterDataStatus::StopIterationNoBuffer;
    }
    d.clear();
    if (end_stream)
      respond();
    return FilterDataStatus::StopIterationNoBuffer;
  }
  FilterTrailersStatus decodeTrailers(HeaderMap&) override {
    rec_->add("terminal:trailers");
    ++trailers_;
    respond();
    return FilterTrailersStatus::StopIteration;
  }
  void setDecoderFilterCallbacks(StreamDecoderFilterCallbacks& cb) override { cb_ = &cb; }
  void onDestroy() override { destroyed_ = true; }

private:
  void respond() {
    if (o_.early_headers) {
      Buffer empty;
      cb_->encodeData(empty, true);
      return;
    }
    HeaderMap r;
    r.add(":status", "200");
    for (const auto& [name, value] : request_)
      if (name.rfind("x-", 0) == 0 && name != "x-request-id" && name != "x-forwarded-proto")
        r.add("echo-" + name, value);
    r.add("x-path", std::string(request_.path()));
    r.add("x-request-body-bytes", std::to_string(body_bytes_));
    r.add("x-request-trailers", std::to_string(trailers_));
    if (o_.content_length)
      r.add("content-length", std::to_string(o_.body.size()));
    bool empty = o_.body.empty();
    cb_->encodeHeaders(std::move(r), empty, "test_terminal");
    size_t step = (o_.body.size() + o_.chunks - 1) / std::max<size_t>(o_.chunks, 1);
    for (size_t off = 0; !empty && off < o_.body.size() && !destroyed_; off += step) {
      Buffer b;
      b.append(std::string_view(o_.body).substr(off, step));
      cb_->encodeData(b, off + step >= o_.body.size());
    }
  }

  RecorderPtr rec_;
  Options o_;
  StreamDecoderFilterCallbacks* cb_ = nullptr;
  HeaderMap request_;
  size_t body_bytes_ = 0;
  int trailers_ = 0;
  bool destroyed_ = false;
};

class AddHeaderFilter : public PassDecoder {
public:
  AddHeaderFilter(std::string name, std::string value) : name_(std::move(name)), value_(std::move(value)) {}
  FilterHeadersStatus decodeHeaders(HeaderMap& h, bool) override {
    h.set(name_, value_);
    return FilterHeadersStatus::Continue;
  }

private:
  std::string name_, value_;
};

// Records what reaches it under `name`.
class RecordFilter : public PassDecoder {
public:
  RecordFilter(RecorderPtr rec, std::string name) : rec_(std::move(rec)), name_(std::move(name)) {}
  FilterHeadersStatus decodeHeaders(HeaderMap&, bool end) override {
    rec_->add(name_ + ":headers" + (end ? "!" : ""));
    return FilterHeadersStatus::Continue;
  }
  FilterDataStatus decodeData(Buffer& d, bool end) override {
    rec_->add(name_ + ":data:" + std::to_string(d.size()) + (end ? "!" : ""));
    return FilterDataStatus::Continue;
  }
  FilterTrailersStatus decodeTrailers(HeaderMap&) override {
    rec_->add(name_ + ":trailers");
    return FilterTrailersStatus::Continue;
  }

private:
  RecorderPtr rec_;
  std::string name_;
};

// Pauses requests that carry x-delay for `delay`, then sets x-timer and continues.
class TimerFilter : public PassDecoder {
public:
  TimerFilter(RecorderPtr rec, std::chrono::milliseconds delay, FilterHeadersStatus stop)
      : rec_(std::move(rec)), delay_(delay), stop_(stop) {}
  FilterHeadersStatus decodeHeaders(HeaderMap& h, bool) override {
    if (!h.has("x-delay"))
      return FilterHeadersStatus::Continue;
    rec_->add("timer:headers");
    headers_ = &h;
    timer_ = cb_->dispatcher().createTimer([this] {
      rec_->add("timer:fired");
      headers_->set("x-timer", "fired");
      cb_->continueDecoding();
    });
    timer_->enableTimer(delay_);
    return stop_;
  }
  FilterDataStatus decodeData(Buffer& d, bool end) override {
    rec_->add("timer:data:" + std::to_string(d.size()) + (end ? "!" : ""));
    return FilterDataStatus::Continue;
  }
  void onDestroy() override { timer_.reset(); }

private:
  RecorderPtr rec_;
  std::chrono::milliseconds delay_;
  FilterHeadersStatus stop_;
  HeaderMap* headers_ = nullptr;
  event::TimerPtr timer_;
};

class LocalReplyFilter : public PassDecoder {
public:
  FilterHeadersStatus decodeHeaders(HeaderMap&, bool) override {
    cb_->sendLocalReply(403, "denied", nullptr, "test_denied");
    return FilterHeadersStatus::StopIteration;
  }
};

// Buffers the whole request body (like envoy.filters.http.buffer, without its own limit).
class BufferingFilter : public PassDecoder {
public:
  explicit BufferingFilter(RecorderPtr rec) : rec_(std::move(rec)) {}
  FilterHeadersStatus decodeHeaders(HeaderMap&, bool end) override {
    return end ? FilterHeadersStatus::Continue : FilterHeadersStatus::StopIteration;
  }
  FilterDataStatus decodeData(Buffer& d, bool end) override {
    rec_->add("buffering:data:" + std::to_string(d.size()) + (end ? "!" : ""));
    return end ? FilterDataStatus::Continue : FilterDataStatus::StopIterationAndBuffer;
  }

private:
  RecorderPtr rec_;
};

// Adds request trailers from the last data callback (Envoy: addDecodedTrailers()).
class AddTrailersFilter : public PassDecoder {
public:
  FilterDataStatus decodeData(Buffer&, bool end) override {
    if (end)
      cb_->addDecodedTrailers().add("x-added-trailer", "1");
    return FilterDataStatus::Continue;
  }
};

// Adds response trailers from the last data callback (Envoy: addEncodedTrailers()).
class AddEncodedTrailersFilter : public PassEncoder {
public:
  FilterDataStatus encodeData(Buffer&, bool end) override {
    if (end)
      cb_->addEncodedTrailers().add("x-added-trailer", "1");
    return FilterDataStatus::Continue;
  }
};

// Buffers the response body, uppercases it and appends a suffix at end_stream. With
// hold_headers it also holds the headers back and fixes content-length.
class UppercaseFilter : public PassEncoder {
public:
  UppercaseFilter(RecorderPtr rec, bool hold_headers, std::string suffix)
      : rec_(std::move(rec)), hold_(hold_headers), suffix_(std::move(suffix)) {}
  FilterHeadersStatus encodeHeaders(HeaderMap& h, bool end) override {
    headers_ = &h;
    if (end)
      return FilterHeadersStatus::Continue;
    return hold_ ? FilterHeadersStatus::StopIteration : FilterHeadersStatus::Continue;
  }
  FilterDataStatus encodeData(Buffer& d, bool end) override {
    rec_->add("upper:data:" + std::to_string(d.size()) + (end ? "!" : ""));
    if (!end)
      return FilterDataStatus::StopIterationAndBuffer;
    std::string s(d.view());
    for (char& c : s)
      c = char(std::toupper(static_cast<unsigned char>(c)));
    s += suffix_;
    d.clear();
    d.append(s);
    if (hold_)
      headers_->set("content-length", std::to_string(s.size()));
    return FilterDataStatus::Continue;
  }

private:
  RecorderPtr rec_;
  bool hold_;
  std::string suffix_;
  HeaderMap* headers_ = nullptr;
};

// Appends its name to the response's x-trace header.
class TraceEncoder : public PassEncoder {
public:
  explicit TraceEncoder(std::string name) : name_(std::move(name)) {}
  FilterHeadersStatus encodeHeaders(HeaderMap& h, bool) override {
    const std::string* cur = h.get("x-trace");
    h.set("x-trace", cur ? *cur + "," + name_ : name_);
    return FilterHeadersStatus::Continue;
  }

private:
  std::string name_;
};

// ---- the worker the HCM runs in --------------------------------------------------------------------

class TestWorker : public WorkerContext {
public:
  explicit TestWorker(event::Dispatcher& d) : dispatcher_(d), clusters_(d) {}
  event::Dispatcher& dispatcher() override { return dispatcher_; }
  upstream::WorkerClusterManager& clusterManager() override { return clusters_; }
  bool draining() const override { return false; }
  void removeConnection(event::DeferredDeletable* conn) override {
    if (hcm && conn == hcm.get())
      dispatcher_.deferredDelete(std::move(hcm));
    removed = true;
  }

  std::unique_ptr<ConnectionManager> hcm; // loop thread only
  bool removed = false;

private:
  event::Dispatcher& dispatcher_;
  upstream::WorkerClusterManager clusters_;
};

// ---- a raw HTTP/1.1 client on the other end ----------------------------------------------------------

struct Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers; // names lower-cased
  std::string body;     // decoded
  std::string raw_body; // as framed on the wire
  bool complete = false;

  const std::string* header(std::string_view name) const {
    for (const auto& [n, v] : headers)
      if (n == name)
        return &v;
    return nullptr;
  }
  std::string get(std::string_view name) const {
    const std::string* v = header(name);
    return v ? *v : "<absent>";
  }
};

class RawClient {
public:
  explicit RawClient(int fd) : fd_(fd) {}
  ~RawClient() {
    if (fd_ >= 0)
      ::close(fd_);
  }

  void send(std::string_view s) {
    while (!s.empty()) {
      ssize_t n = ::write(fd_, s.data(), s.size());
      if (n < 0 && errno == EINTR)
        continue;
      ASSERT_GT(n, 0) << strerror(errno);
      s.remove_prefix(size_t(n));
    }
  }

  // Reads one final (non-1xx) response; complete=false on timeout or early EOF.
  Response read(std::chrono::milliseconds timeout = 5000ms) {
    auto deadline = Clock::now() + timeout;
    Response r;
    for (;;) {
      size_t end;
      while ((end = in_.find("\r\n\r\n")) == std::string::npos)
        if (!fill(deadline))
          return r;
      std::string head = in_.substr(0, end);
      in_.erase(0, end + 4);
      r = Response{};
      size_t line_end = head.find("\r\n");
      std::string status_line = head.substr(0, line_end);
      if (status_line.size() < 12)
        return r;
      r.status = std::stoi(status_line.substr(9, 3));
      size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        size_t e = head.find("\r\n", pos);
        if (e == std::string::npos)
          e = head.size();
        std::string line = head.substr(pos, e - pos);
        size_t colon = line.find(':');
        std::string name = line.substr(0, colon);
        for (char& c : name)
          c = char(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ')
          value.erase(0, 1);
        r.headers.emplace_back(name, value);
        pos = e + 2;
      }
      if (r.status >= 200)
        break;
    }
    if (r.status == 204 || r.status == 304) {
      r.complete = true;
      return r;
    }
    if (const std::string* cl = r.header("content-length")) {
      size_t n = std::stoul(*cl);
      while (in_.size() < n)
        if (!fill(deadline))
          return r;
      r.body = r.raw_body = in_.substr(0, n);
      in_.erase(0, n);
      r.complete = true;
      return r;
    }
    if (r.get("transfer-encoding") == "chunked") {
      for (;;) {
        size_t e;
        while ((e = in_.find("\r\n")) == std::string::npos)
          if (!fill(deadline))
            return r;
        size_t size = std::stoul(in_.substr(0, e), nullptr, 16);
        if (size == 0) {
          // Last chunk, then optional trailers and a blank line.
          size_t t;
          while ((t = in_.find("\r\n\r\n")) == std::string::npos && in_.compare(e + 2, 2, "\r\n") != 0)
            if (!fill(deadline))
              return r;
          size_t stop = in_.compare(e + 2, 2, "\r\n") == 0 ? e + 4 : t + 4;
          r.raw_body += in_.substr(0, stop);
          in_.erase(0, stop);
          r.complete = true;
          return r;
        }
        while (in_.size() < e + 2 + size + 2)
          if (!fill(deadline))
            return r;
        r.raw_body += in_.substr(0, e + 2 + size + 2);
        r.body += in_.substr(e + 2, size);
        in_.erase(0, e + 2 + size + 2);
      }
    }
    // Neither: the body runs to the close.
    while (fill(deadline)) {
    }
    r.body = r.raw_body = in_;
    in_.clear();
    r.complete = eof_;
    return r;
  }

  // True once the server closed its side (nothing else arrived meanwhile).
  bool waitEof(std::chrono::milliseconds timeout = 5000ms) {
    auto deadline = Clock::now() + timeout;
    while (fill(deadline)) {
    }
    return eof_ && in_.empty();
  }
  // Whatever arrived within `timeout` without being read as a response.
  std::string drain(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (fill(deadline)) {
    }
    std::string out;
    out.swap(in_);
    return out;
  }

private:
  bool fill(Clock::time_point deadline) {
    if (eof_)
      return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0)
      return false;
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, int(left));
    if (rc <= 0)
      return false;
    char buf[16384];
    ssize_t n = ::read(fd_, buf, sizeof(buf));
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    in_.append(buf, size_t(n));
    return true;
  }

  int fd_;
  std::string in_;
  bool eof_ = false;
};

// ---- the fixture ------------------------------------------------------------------------------------------

class ConnManagerTest : public ::testing::Test {
protected:
  ConnManagerTest() {
    config_->stats = std::make_unique<HcmStats>(store_, "http.test.");
  }

  void TearDown() override {
    if (!loop_.joinable())
      return;
    onLoop([this] {
      if (worker_.hcm)
        worker_.hcm->connection().close(network::CloseType::NoFlush);
    });
    dispatcher_.exit();
    loop_.join();
  }

  template <class F> void addFilter(F factory) { config_->filter_factories.push_back(std::move(factory)); }
  void addTerminal(TerminalFilter::Options o = {}) {
    addFilter([rec = rec_, o](FilterChainFactoryCallbacks& cb) {
      cb.addStreamDecoderFilter(std::make_shared<TerminalFilter>(rec, o));
    });
  }

  // Starts the loop and the HCM over a fresh socketpair.
  void start() {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    int fl = ::fcntl(fds[0], F_GETFL);
    ::fcntl(fds[0], F_SETFL, fl | O_NONBLOCK);
    client_ = std::make_unique<RawClient>(fds[1]);
    loop_ = std::thread([this] { dispatcher_.run(); });
    onLoop([this, fd = fds[0]] {
      auto conn = network::Connection::createServer(dispatcher_, fd, 1);
      worker_.hcm = std::make_unique<ConnectionManager>(worker_, std::move(conn), config_, listener_stats_);
    });
  }

  // Runs `fn` on the loop thread and waits for it.
  void onLoop(std::function<void()> fn) {
    std::promise<void> done;
    dispatcher_.post([&] {
      fn();
      done.set_value();
    });
    ASSERT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
  }
  uint64_t counter(const std::string& name) {
    uint64_t v = 0;
    onLoop([&] { v = store_.counter("http.test." + name).value(); });
    return v;
  }

  stats::Store store_;
  ListenerStats listener_stats_{store_, "listener.test."};
  std::shared_ptr<HcmConfig> config_ = std::make_shared<HcmConfig>();
  RecorderPtr rec_ = std::make_shared<Recorder>();
  event::Dispatcher dispatcher_{"hcm-test"};
  TestWorker worker_{dispatcher_};
  std::unique_ptr<RawClient> client_;
  std::thread loop_;
};

const char kGet[] = "GET /echo HTTP/1.1\r\nhost: test\r\n\r\n";

std::string post(std::string_view path, std::string_view body, std::string_view extra = "") {
  return "POST " + std::string(path) + " HTTP/1.1\r\nhost: test\r\ncontent-length: " +
         std::to_string(body.size()) + "\r\n" + std::string(extra) + "\r\n" + std::string(body);
}

// ---- tests ----------------------------------------------------------------------------------------------

TEST_F(ConnManagerTest, DecoderFilterHeaderReachesTerminalFilter) {
  addFilter([](FilterChainFactoryCallbacks& cb) {
    cb.addStreamDecoderFilter(std::make_shared<AddHeaderFilter>("x-added", "from-filter"));
  });
  addTerminal();
  start();
  client_->send(kGet);
  Response r = client_->read();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.get("echo-x-added"), "from-filter");
  EXPECT_EQ(r.get("x-path"), "/echo");
  EXPECT_EQ(r.get("content-length"), "11");
  EXPECT_EQ(r.get("server"), "wasmgate");
  EXPECT_EQ(r.body, "hello world");
  EXPECT_EQ(rec_->with("terminal:"), (std::vector<std::string>{"terminal:headers!"}));
  EXPECT_EQ(counter("downstream_rq_2xx"), 1u);
}

TEST_F(ConnManagerTest, RequestBodyStreamsToTerminalFilter) {
  addFilter([rec = rec_](FilterChainFactoryCallbacks& cb) {
    cb.addStreamDecoderFilter(std::make_shared<RecordFilter>(rec, "rec"));
  });
  addTerminal();
  start();
  client_->send("POST /up HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\n\r\n"
                "3\r\nabc\r\n2\r\nde\r\n0\r\nx-t: 1\r\n\r\n");
  Response r = client_->read();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.get("x-request-body-bytes"), "5");
  EXPECT_EQ(r.get("x-request-trailers"), "1");
  // Trailers end the request: no data callback carries end_stream.
  ASSERT_FALSE(rec_->with("rec:data").empty());
  for (const auto& e : rec_->with("rec:data"))
    EXPECT_NE(e.back(), '!') << e;
  EXPECT_EQ(rec_->with("rec:trailers").size(), 1u);
  EXPECT_EQ(rec_->with("rec:headers"), (std::vector<std::string>{"rec:headers"}));
}

TEST_F(ConnManagerTest, EncoderBuffersAndRewritesBodyOfUnknownLength) {
  TerminalFilter::Options o;
  o.content_length = false;
  o.chunks = 3; // "hell" "o wo" "rld"
  addTerminal(o);
  addFilter([rec = rec_](FilterChainFactoryCallbacks& cb) {
    cb.addStreamEncoderFilter(std::make_shared<UppercaseFilter>(rec, false, "!"));
  });
  start();
  client_->send(kGet);
  Response r = client_->read();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.status, 200);
  // Headers went out before the body was known: chunked, one chunk with the rewritten body.
  EXPECT_EQ(r.get("transfer-encoding"), "chunked");
  EXPECT_EQ(r.header("content-length"), nullptr);
  EXPECT_EQ(r.raw_body, "c\r\nHELLO WORLD!\r\n0\r\n\r\n");
  // The filter saw the whole buffered body each time.
  EXPECT_EQ(rec_->with("upper:"),
            (std::vector<std::string>{"upper:data:4", "upper:data:8", "upper:data:11!"}));
}

TEST_F(ConnManagerTest, EncoderHoldingHeadersFixesContentLength) {
  TerminalFilter::Options o;
  o.chunks = 2;
  addTerminal(o);
  addFilter([rec = rec_](FilterChainFactoryCallbacks& cb) {
    cb.addStreamEncoderFilter(std::make_shared<UppercaseFilter>(rec, true, "!!"));
  });
  start();
  client_->send(kGet);
  Response r = client_->read();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.get("content-length"), "13");
  EXPECT_EQ(r.header("transfer-encoding"), nullptr);
  EXPECT_EQ(r.body, "HELLO WORLD!!");
  // Keep-alive still works: the framing was right.
  client_->send(kGet);
  Response again = client_->read();
  ASSERT_TRUE(again.complete);
  EXPECT_EQ(again.body, "HELLO WORLD!!");
}

TEST_F(ConnManagerTest, EncoderFiltersRunInReverseOrder) {
  addTerminal();
  addFilter([](FilterChainFactoryCallbacks& cb) {
    cb.addStreamEncoderFilter(std::make_shared<TraceEncoder>("A"));
  });
  addFilter([](FilterChainFactoryCallbacks& cb) {
    cb.addStreamEncoderFilter(std::make_shared<TraceEncoder>("B"));
  });
  start();
  client_->send(kGet);
  Response r = client_->read();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.get("x-trace"), "B,A");
}

TEST_F(ConnManagerTest, FilterStopsAndResumesFromTimer) {
  addFilter([rec = rec_](FilterChainFactoryCallbacks& cb) {
    cb.addStreamDecoderFilter(std::make_shared<TimerFilter>(rec, 40ms, FilterHeadersStatus::StopIteration));
  });
  addTerminal();
  start();
  auto t0 = Clock::now();
  client_->send("GET /slow HTTP/1.1\r\nhost: test\r\nx-delay: 1\r\n\r\n");
  Response r = client_->read();
  ASSERT_TRUE(r.complete);
  EXPECT_GE(Clock::now() - t0, 40ms);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.get("echo-x-timer"), "fired");
  EXPECT_EQ(rec_->events(),
            (std::vector<std::string>{"timer:headers", "timer:fired", "terminal:headers!"}));
}

TEST_F(ConnManagerTest, StopAllHoldsBodyUntilTimerResumes) {
  addFilter([rec = rec_](FilterChainFactoryCallbacks& cb) {
    cb.addStreamDecoderFilter(
        std::make_shared<TimerFilter>(rec, 60ms, FilterHeadersStatus::StopAllIterationAndBuffer));
  });
  addTerminal();
  start();
  std::string req = post("/upload", "0123456789", "x-delay: 1\r\n");
  client_->send(req.substr(0, req.size() - 6));
  std::this_thread::sleep_for(10ms);
  client_->send(req.substr(req.size() - 6));
  Response r = client_->read();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.get("x-request-body-bytes"), "10");
  EXPECT_EQ(r.get("echo-x-timer"), "fired");
  // Nothing reached the stopping filter before the timer; then the whole body at once.
  EXPECT_EQ(rec_->with("timer:"),
            (std::vector<std::string>{"timer:headers", "timer:fired", "timer:data:10!"}));
  EXPECT_EQ(rec_->with("terminal:"), (std::vector<std::string>{"terminal:headers", "terminal:data:10!"}));
}

TEST_F(ConnManagerTest, LocalReplySkipsLaterDecoderFiltersAndKeepsConnection) {
  addFilter([rec = rec_](FilterChainFactoryCallbacks& cb) {
    cb.addStreamDecoderFilter(std::make_shared<RecordFilter>(rec, "first"));
  });
  addFilter([](FilterChainFactoryCallbacks& cb) {
    cb.addStreamDecoderFilter(std::make_shared<LocalReplyFilter>());
  });
  addFilter([rec = rec_](FilterChainFactoryCallbacks& cb) {
    cb.addStreamDecoderFilter(std::make_shared<RecordFilter>(rec, "after"));
  });
  addTerminal();
  addFilter([](FilterChainFactoryCallbacks& cb) {
    cb.addStreamEncoderFilter(std::make_shared<TraceEncoder>("E"));
  });
  start();
  client_->send(kGet);
  Response r = client_->read();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, "denied");
  EXPECT_EQ(r.get("content-length"), "6");
  EXPECT_EQ(r.get("x-trace"), "E"); // local replies go through the encoder filters
  EXPECT_EQ(r.header("connection"), nullptr);
  // The request was complete, so the connection stays usable.
  client_->send(kGet);
  Response again = client_->read();
  ASSERT_TRUE(again.complete);
  EXPECT_EQ(again.status, 403);
  EXPECT_EQ(rec_->events(), (std::vector<std::string>{"first:headers!", "first:headers!"}));
  EXPECT_EQ(counter("downstream_rq_4xx"), 2u);
}

TEST_F(ConnManagerTest, LocalReplyBeforeBodyClosesConnection) {
  addFilter([](FilterChainFactoryCallbacks& cb) {
    cb.addStreamDecoderFilter(std::make_shared<LocalReplyFilter>());
  });
  addTerminal();
  start();
  // Headers only: the body the filter never waited for would otherwise be parsed as a request.
  client_->send("POST /x HTTP/1.1\r\nhost: test\r\ncontent-length: 100\r\n\r\n");
  Response r = client_->read();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.get("connection"), "close");
  EXPECT_TRUE(client_->waitEof());
}

TEST_F(ConnManagerTest, PipelinedLocalRepliesAnsweredInOrder) {
  addFilter([rec = rec_](FilterChainFactoryCallbacks& cb) {
    cb.addStreamDecoderFilter(std::make_shared<RecordFilter>(rec, "first"));
  });
  addFilter([](FilterChainFactoryCallbacks& cb) {
    cb.addStreamDecoderFilter(std::make_shared<LocalReplyFilter>());
  });
  addTerminal();
  start();
  client_->send("GET /a HTTP/1.1\r\nhost: test\r\n\r\nGET /b HTTP/1.1\r\nhost: test\r\n\r\n");
  Response r1 = client_->read();
  Response r2 = client_->read();
  ASSERT_TRUE(r1.complete && r2.complete);
  EXPECT_EQ(r1.status, 403);
  EXPECT_EQ(r2.status, 403);
  EXPECT_EQ(rec_->events(), (std::vector<std::string>{"first:headers!", "first:headers!"}));
}

TEST_F(ConnManagerTest, PipelinedRequestsAnsweredInOrder) {
  addFilter([rec = rec_](FilterChainFactoryCallbacks& cb) {
    cb.addStreamDecoderFilter(std::make_shared<TimerFilter>(rec, 30ms, FilterHeadersStatus::StopIteration));
  });
  addTerminal();
  start();
  // The first one is held by a timer; the others must still wait their turn.
  client_->send("GET /one HTTP/1.1\r\nhost: test\r\nx-delay: 1\r\n\r\n"
                "GET /two HTTP/1.1\r\nhost: test\r\n\r\n" +
                post("/three", "abc"));
  Response r1 = client_->read();
  Response r2 = client_->read();
  Response r3 = client_->read();
  ASSERT_TRUE(r1.complete && r2.complete && r3.complete);
  EXPECT_EQ(r1.get("x-path"), "/one");
  EXPECT_EQ(r1.get("echo-x-timer"), "fired");
  EXPECT_EQ(r2.get("x-path"), "/two");
  EXPECT_EQ(r2.get("echo-x-timer"), "<absent>");
  EXPECT_EQ(r3.get("x-path"), "/three");
  EXPECT_EQ(r3.get("x-request-body-bytes"), "3");
  EXPECT_EQ(counter("downstream_rq_total"), 3u);
}

TEST_F(ConnManagerTest, BufferedRequestBodyUnderLimitIsDeliveredWhole) {
  config_->buffer_limit = 1024;
  addFilter([rec = rec_](FilterChainFactoryCallbacks& cb) {
    cb.addStreamDecoderFilter(std::make_shared<BufferingFilter>(rec));
  });
  addTerminal();
  start();
  std::string req = post("/buf", std::string(1000, 'x'));
  client_->send(req.substr(0, req.size() - 500));
  std::this_thread::sleep_for(10ms);
  client_->send(req.substr(req.size() - 500));
  Response r = client_->read();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.get("x-request-body-bytes"), "1000");
  // The terminal filter got the body once, whole, after the buffering filter continued.
  EXPECT_EQ(rec_->with("terminal:"), (std::vector<std::string>{"terminal:headers", "terminal:data:1000!"}));
  auto seen = rec_->with("buffering:");
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), "buffering:data:1000!");
}

TEST_F(ConnManagerTest, BufferedRequestBodyOverLimitGets413) {
  config_->buffer_limit = 1024;
  addFilter([rec = rec_](FilterChainFactoryCallbacks& cb) {
    cb.addStreamDecoderFilter(std::make_shared<BufferingFilter>(rec));
  });
  addTerminal();
  start();
  // Two reads: the first part is buffered (no end_stream yet) and already over the limit.
  std::string req = post("/big", std::string(4096, 'x'));
  client_->send(req.substr(0, req.size() - 2000));
  std::this_thread::sleep_for(20ms);
  client_->send(req.substr(req.size() - 2000));
  Response r = client_->read();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body, "Payload Too Large");
  EXPECT_TRUE(client_->waitEof());
  EXPECT_TRUE(rec_->with("terminal:").empty());
  EXPECT_EQ(counter("downstream_rq_too_large"), 1u);
}

TEST_F(ConnManagerTest, BufferedResponseBodyOverLimitGets500) {
  config_->buffer_limit = 1024;
  TerminalFilter::Options o;
  o.body = std::string(3000, 'a');
  o.chunks = 3;
  addTerminal(o);
  addFilter([rec = rec_](FilterChainFactoryCallbacks& cb) {
    cb.addStreamEncoderFilter(std::make_shared<UppercaseFilter>(rec, true, ""));
  });
  start();
  client_->send(kGet);
  Response r = client_->read();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "Internal Server Error");
}

TEST_F(ConnManagerTest, ClientGoneWhileFilterPausedCancelsTheStream) {
  addFilter([rec = rec_](FilterChainFactoryCallbacks& cb) {
    cb.addStreamDecoderFilter(std::make_shared<TimerFilter>(rec, 50ms, FilterHeadersStatus::StopIteration));
  });
  addTerminal();
  start();
  client_->send("GET /slow HTTP/1.1\r\nhost: test\r\nx-delay: 1\r\n\r\n");
  std::this_thread::sleep_for(10ms);
  client_.reset(); // closes the socket
  // Past the timer: it must have been cancelled with the stream, not fired into it.
  std::this_thread::sleep_for(120ms);
  EXPECT_EQ(rec_->events(), (std::vector<std::string>{"timer:headers"}));
  EXPECT_EQ(counter("downstream_rq_rx_reset"), 1u);
  bool removed = false;
  onLoop([&] { removed = worker_.removed; });
  EXPECT_TRUE(removed);
}

// ---- Envoy behaviours this HCM does not have yet (see the report / skip reasons) ------------------

TEST_F(ConnManagerTest, TrailersAddedByDecoderFilterReachLaterFilters) {
  addFilter([](FilterChainFactoryCallbacks& cb) {
    cb.addStreamDecoderFilter(std::make_shared<AddTrailersFilter>());
  });
  addTerminal();
  start();
  client_->send(post("/t", "abc"));
  Response r = client_->read();
  ASSERT_TRUE(r.complete);
  ASSERT_FALSE(r.get("x-request-trailers") != "1") << "regression of a fixed bug: ActiveDecoderFilter::addDecodedTrailers() (conn_manager.cc) only sets "
                    "has_request_trailers_; it never hands the trailers to decode_iter_ "
                    "(setTrailers), so later filters get end_stream on the data and never see the "
                    "added trailers. Terminal saw: "
                 << ::testing::PrintToString(rec_->with("terminal:"));
  EXPECT_EQ(rec_->with("terminal:"),
            (std::vector<std::string>{"terminal:headers", "terminal:data:3", "terminal:trailers"}));
}

TEST_F(ConnManagerTest, TrailersAddedByEncoderFilterAreSent) {
  TerminalFilter::Options o;
  o.content_length = false; // chunked, so trailers can go on the wire
  addTerminal(o);
  addFilter([](FilterChainFactoryCallbacks& cb) {
    cb.addStreamEncoderFilter(std::make_shared<AddEncodedTrailersFilter>());
  });
  start();
  client_->send(kGet);
  Response r = client_->read();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.body, "hello world");
  ASSERT_FALSE(r.raw_body.find("x-added-trailer: 1") == std::string::npos) << "regression of a fixed bug: ActiveEncoderFilter::addEncodedTrailers() (conn_manager.cc) only sets "
                    "has_response_trailers_; encode_iter_ is never told, so the data keeps "
                    "end_stream and the trailers are never encoded. Wire body: "
                 << ::testing::PrintToString(r.raw_body);
  EXPECT_EQ(r.raw_body, "b\r\nhello world\r\n0\r\nx-added-trailer: 1\r\n\r\n");
}

TEST_F(ConnManagerTest, RequestBodyStillDecodedAfterResponseHeaders) {
  TerminalFilter::Options o;
  o.early_headers = true;
  addTerminal(o);
  start();
  client_->send("POST /echo HTTP/1.1\r\nhost: test\r\ncontent-length: 5\r\n\r\n");
  // Let the response headers go out before the body arrives (a streaming echo server).
  std::string early = client_->drain(100ms);
  client_->send("hello");
  std::string rest = client_->drain(300ms);
  std::string all = early + rest;
  ASSERT_FALSE(all.find("\r\n\r\n5\r\nhello\r\n0\r\n\r\n") == std::string::npos) << "regression of a fixed bug: ActiveStream::encodeHeadersFromFilter() sets decode_done_, so once "
                    "the response has started the rest of the request body is dropped "
                    "(ActiveStream::decodeData) and the terminal filter never sees it; Envoy keeps "
                    "decoding. Got: "
                 << ::testing::PrintToString(all);
  EXPECT_EQ(rec_->with("terminal:"), (std::vector<std::string>{"terminal:headers", "terminal:data:5!"}));
}

} // namespace
} // namespace wasmgate::http
