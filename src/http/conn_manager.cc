#include "http/conn_manager.h"

#include <algorithm>
#include <atomic>
#include <random>

#include "common/logger.h"
#include "http/active_stream.h"

namespace wasmgate::http {

namespace {
std::atomic<uint64_t> g_stream_id{1};
std::string_view reasonPhraseBody(uint32_t status) { return http1::reasonPhrase(status); }
} // namespace

HcmStats::HcmStats(stats::Store& s, const std::string& p)
    : downstream_cx_total(s.counter(p + "downstream_cx_total")),
      downstream_cx_active(s.gauge(p + "downstream_cx_active")),
      downstream_cx_http1_total(s.counter(p + "downstream_cx_http1_total")),
      downstream_cx_http1_active(s.gauge(p + "downstream_cx_http1_active")),
      downstream_cx_destroy(s.counter(p + "downstream_cx_destroy")),
      downstream_cx_destroy_remote(s.counter(p + "downstream_cx_destroy_remote")),
      downstream_cx_destroy_local(s.counter(p + "downstream_cx_destroy_local")),
      downstream_cx_destroy_active_rq(s.counter(p + "downstream_cx_destroy_active_rq")),
      downstream_cx_protocol_error(s.counter(p + "downstream_cx_protocol_error")),
      downstream_cx_idle_timeout(s.counter(p + "downstream_cx_idle_timeout")),
      downstream_cx_drain_close(s.counter(p + "downstream_cx_drain_close")),
      downstream_cx_rx_bytes_total(s.counter(p + "downstream_cx_rx_bytes_total")),
      downstream_cx_tx_bytes_total(s.counter(p + "downstream_cx_tx_bytes_total")),
      downstream_rq_total(s.counter(p + "downstream_rq_total")),
      downstream_rq_http1_total(s.counter(p + "downstream_rq_http1_total")),
      downstream_rq_active(s.gauge(p + "downstream_rq_active")),
      downstream_rq_completed(s.counter(p + "downstream_rq_completed")),
      downstream_rq_timeout(s.counter(p + "downstream_rq_timeout")),
      downstream_rq_idle_timeout(s.counter(p + "downstream_rq_idle_timeout")),
      downstream_rq_header_timeout(s.counter(p + "downstream_rq_header_timeout")),
      downstream_rq_rx_reset(s.counter(p + "downstream_rq_rx_reset")),
      downstream_rq_tx_reset(s.counter(p + "downstream_rq_tx_reset")),
      downstream_rq_too_large(s.counter(p + "downstream_rq_too_large")),
      downstream_rq_time(s.histogram(p + "downstream_rq_time")) {
  for (int c = 1; c <= 5; ++c)
    rq_class[c] = &s.counter(p + "downstream_rq_" + std::to_string(c) + "xx");
}

// ---------------------------------------------------------------------------------------------
// ConnectionManager

static http1::ParserLimits limitsFor(const HcmConfig& c) {
  http1::ParserLimits l;
  l.max_header_bytes = size_t(c.cfg.max_request_headers_kb) * 1024;
  l.max_headers = c.cfg.max_headers_count;
  return l;
}

ConnectionManager::ConnectionManager(WorkerContext& worker, network::ConnectionPtr connection,
                                     HcmConfigConstSharedPtr config, ListenerStats& listener_stats)
    : worker_(worker), connection_(std::move(connection)), config_(std::move(config)),
      listener_stats_(listener_stats), codec_(*connection_, *this, limitsFor(*config_)),
      id_(connection_->id()) {
  connection_->setCallbacks(this);
  connection_->setBufferLimits(config_->buffer_limit);
  auto& st = *config_->stats;
  st.downstream_cx_total.inc();
  st.downstream_cx_active.inc();
  st.downstream_cx_http1_total.inc();
  st.downstream_cx_http1_active.inc();
  listener_stats_.downstream_cx_total.inc();
  listener_stats_.downstream_cx_active.inc();
  idle_timer_ = worker_.dispatcher().createTimer([this] {
    if (drain_idle_grace_.count() > 0)
      config_->stats->downstream_cx_drain_close.inc();
    else
      config_->stats->downstream_cx_idle_timeout.inc();
    closeConnection(network::CloseType::FlushWrite);
  });
  resetIdleTimer();
  if (config_->request_headers_timeout.count() > 0) {
    headers_timer_ = worker_.dispatcher().createTimer([this] {
      if (!stream_) {
        config_->stats->downstream_rq_header_timeout.inc();
        closeConnection(network::CloseType::FlushWrite);
      }
    });
    headers_timer_->enableTimer(config_->request_headers_timeout);
  }
}

ConnectionManager::~ConnectionManager() = default;

void ConnectionManager::resetIdleTimer() {
  if (!idle_timer_ || stream_)
    return;
  auto timeout = config_->idle_timeout;
  if (drain_idle_grace_.count() > 0 && (timeout.count() <= 0 || drain_idle_grace_ < timeout))
    timeout = drain_idle_grace_;
  if (timeout.count() > 0)
    idle_timer_->enableTimer(timeout);
}

void ConnectionManager::closeConnection(network::CloseType type) {
  if (closed_)
    return;
  connection_->close(type);
}

void ConnectionManager::onDrain() {
  draining_ = true;
  if (!stream_) {
    config_->stats->downstream_cx_drain_close.inc();
    closeConnection(network::CloseType::FlushWrite);
  } else {
    codec_.setCloseAfterResponse();
  }
}

void ConnectionManager::onListenerUpdated(std::chrono::milliseconds idle_grace) {
  if (closed_ || draining_)
    return;
  // Not draining_: a request that arrives is still read and served, then the connection closes.
  codec_.setCloseAfterResponse();
  drain_idle_grace_ = std::max(idle_grace, std::chrono::milliseconds(1));
  resetIdleTimer();
}

void ConnectionManager::onData(Buffer& data, bool end_stream) {
  if (closed_)
    return;
  if (!codec_.paused()) {
    if (idle_timer_ && !stream_)
      idle_timer_->disableTimer();
    // A response can complete inside dispatch (local replies); the decision to keep the
    // connection waits until the parser has seen the end of that request.
    dispatching_ = true;
    codec_.dispatch(data);
    dispatching_ = false;
    if (stream_complete_pending_) {
      stream_complete_pending_ = false;
      afterStreamComplete();
    }
  }
  if (end_stream && !closed_) {
    // The client is gone (HTTP/1 treats a half-close as the end of the connection).
    if (stream_ && !codec_.responseComplete()) {
      config_->stats->downstream_rq_rx_reset.inc();
      stream_->resetStream(DownstreamConnectionTermination);
    }
  }
}

void ConnectionManager::onEvent(network::ConnectionEvent event) {
  if (event == network::ConnectionEvent::Connected || closed_)
    return;
  closed_ = true;
  auto& st = *config_->stats;
  if (stream_) {
    st.downstream_cx_destroy_active_rq.inc();
    if (!stream_->finished_) {
      st.downstream_rq_rx_reset.inc();
      stream_->info_.setFlag(DownstreamConnectionTermination);
      stream_->reset_ = true;
      stream_->finish();
    }
    destroyStream();
  }
  st.downstream_cx_destroy.inc();
  if (event == network::ConnectionEvent::RemoteClose)
    st.downstream_cx_destroy_remote.inc();
  else
    st.downstream_cx_destroy_local.inc();
  st.downstream_cx_active.dec();
  st.downstream_cx_http1_active.dec();
  st.downstream_cx_rx_bytes_total.inc(connection_->bytesReceived());
  st.downstream_cx_tx_bytes_total.inc(connection_->bytesSent());
  listener_stats_.downstream_cx_active.dec();
  listener_stats_.downstream_cx_destroy.inc();
  idle_timer_.reset();
  headers_timer_.reset();
  worker_.removeConnection(this);
}

void ConnectionManager::onAboveWriteBufferHighWatermark() {
  above_watermark_ = true;
  if (stream_)
    stream_->onDownstreamWatermark(true);
}

void ConnectionManager::onBelowWriteBufferLowWatermark() {
  above_watermark_ = false;
  if (stream_)
    stream_->onDownstreamWatermark(false);
}

RequestDecoder& ConnectionManager::newStream(ResponseEncoder& encoder, const http1::MessageInfo& info) {
  if (headers_timer_)
    headers_timer_->disableTimer();
  if (idle_timer_)
    idle_timer_->disableTimer();
  stream_ = std::make_unique<ActiveStream>(*this, encoder, info);
  if (draining_ || worker_.draining())
    codec_.setCloseAfterResponse();
  return *stream_;
}

void ConnectionManager::onProtocolError(uint32_t status, std::string_view details) {
  config_->stats->downstream_cx_protocol_error.inc();
  codec_.setCloseAfterResponse();
  if (stream_ && !codec_.responseStarted()) {
    stream_->info_.setFlag(DownstreamProtocolError);
    stream_->sendLocalReply(status, reasonPhraseBody(status), nullptr, details);
    return;
  }
  if (stream_) {
    stream_->resetStream(DownstreamProtocolError);
    return;
  }
  // No stream yet (bad request line or headers): answer directly, log, and close.
  HeaderMap h;
  h.add(":status", std::to_string(status));
  std::string body(reasonPhraseBody(status));
  h.add("content-length", std::to_string(body.size()));
  h.add("content-type", "text/plain");
  h.add("server", config_->cfg.server_name);
  codec_.encodeHeaders(h, body.empty());
  if (!body.empty()) {
    Buffer b;
    b.append(body);
    codec_.encodeData(b, true);
  }
  auto& st = *config_->stats;
  st.downstream_rq_total.inc();
  st.downstream_rq_http1_total.inc();
  st.downstream_rq_completed.inc();
  st.rq_class[status / 100]->inc();
  if (!config_->access_logs.empty()) {
    StreamInfo info;
    info.start_time = std::chrono::system_clock::now();
    info.start_steady = std::chrono::steady_clock::now();
    info.end_steady = info.start_steady;
    info.response_code = status;
    info.response_code_details = std::string(details);
    info.setFlag(DownstreamProtocolError);
    info.downstream_remote_address = connection_->remoteAddress().text;
    info.downstream_local_address = connection_->localAddress().text;
    info.downstream_direct_remote_address = info.downstream_remote_address;
    info.connection_id = id_;
    for (auto& l : config_->access_logs)
      l->log(info);
  }
  closeConnection(network::CloseType::FlushWriteAndDelay);
}

void ConnectionManager::destroyStream() {
  if (stream_)
    worker_.dispatcher().deferredDelete(std::move(stream_));
}

void ConnectionManager::onStreamComplete() {
  destroyStream();
  if (dispatching_) {
    stream_complete_pending_ = true;
    return;
  }
  afterStreamComplete();
}

void ConnectionManager::afterStreamComplete() {
  if (closed_)
    return;
  bool keep = codec_.keepAlive() && codec_.requestComplete() && !draining_ && !worker_.draining();
  if (!keep) {
    if (draining_ || worker_.draining())
      config_->stats->downstream_cx_drain_close.inc();
    // A request body we did not read would be parsed as the next request: close.
    closeConnection(codec_.requestComplete() ? network::CloseType::FlushWrite
                                             : network::CloseType::FlushWriteAndDelay);
    return;
  }
  codec_.resumeAfterResponse();
  resetIdleTimer();
  if (headers_timer_)
    headers_timer_->enableTimer(config_->request_headers_timeout);
  // Pipelined requests may already be buffered.
  connection_->redeliverBufferedData();
}

// ---------------------------------------------------------------------------------------------
// ActiveStream

ActiveStream::ActiveStream(ConnectionManager& cm, ResponseEncoder& encoder, const http1::MessageInfo& info)
    : cm_(cm), id_(g_stream_id.fetch_add(1, std::memory_order_relaxed)), encoder_(encoder),
      decoder_buffer_limit_(cm.config_->buffer_limit) {
  info_.start_time = std::chrono::system_clock::now();
  info_.start_steady = cm.worker_.dispatcher().now();
  info_.protocol = info.version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
  info_.downstream_remote_address = cm.connection_->remoteAddress().text;
  info_.downstream_direct_remote_address = info_.downstream_remote_address;
  info_.downstream_local_address = cm.connection_->localAddress().text;
  info_.connection_id = cm.id_;
  info_.request_headers = &request_headers_;
  expect_continue_ = info.expect_continue;
  auto& st = *cm.config_->stats;
  st.downstream_rq_total.inc();
  st.downstream_rq_http1_total.inc();
  st.downstream_rq_active.inc();
  // Every configured filter is a decoder filter (the router is one): one allocation.
  decoder_filters_.reserve(cm.config_->filter_factories.size());
  for (const auto& factory : cm.config_->filter_factories)
    factory(*this);
  for (size_t i = 0; i < encoder_filters_.size(); ++i)
    encoder_filters_[i]->setIndex(i);
  decode_iter_.setHeaders(&request_headers_);
  encode_iter_.setHeaders(&response_headers_);
  const auto& cfg = *cm.config_;
  if (cfg.stream_idle_timeout.count() > 0) {
    idle_timer_.emplace(cm.worker_.dispatcher(), [this] { onIdleTimeout(); });
    idle_timer_->enableTimer(cfg.stream_idle_timeout);
    last_activity_ = cm.worker_.dispatcher().now();
  }
  if (cfg.request_timeout.count() > 0) {
    request_timer_.emplace(cm.worker_.dispatcher(), [this] { onRequestTimeout(); });
    request_timer_->enableTimer(cfg.request_timeout);
  }
}

ActiveStream::~ActiveStream() {
  if (!finished_)
    finish();
}

void ActiveStream::addStreamDecoderFilter(StreamDecoderFilterSharedPtr filter) {
  auto w = std::make_unique<ActiveDecoderFilter>(*this, filter, decoder_filters_.size());
  filter->setDecoderFilterCallbacks(*w);
  decoder_filters_.push_back(std::move(w));
}

void ActiveStream::addStreamEncoderFilter(StreamEncoderFilterSharedPtr filter) {
  // Encoders run in reverse configuration order: newest first.
  auto w = std::make_unique<ActiveEncoderFilter>(*this, filter, 0);
  filter->setEncoderFilterCallbacks(*w);
  encoder_filters_.insert(encoder_filters_.begin(), std::move(w));
}

void ActiveStream::addStreamFilter(StreamFilterSharedPtr filter) {
  addStreamDecoderFilter(filter);
  addStreamEncoderFilter(filter);
}

void ActiveStream::addAccessLogHandler(AccessLogHandlerSharedPtr handler) {
  log_handlers_.push_back(std::move(handler));
}

event::Dispatcher& ActiveStream::dispatcher() { return cm_.worker_.dispatcher(); }
upstream::WorkerClusterManager& ActiveStream::clusterManager() { return cm_.worker_.clusterManager(); }

const router::RouteEntry* ActiveStream::route() {
  if (!route_cached_) {
    cached_route_ = cm_.config_->route_table ? cm_.config_->route_table->route(request_headers_) : nullptr;
    route_cached_ = true;
  }
  return cached_route_;
}

namespace {
std::string makeUuid() {
  // xorshift128+ seeded once per thread: request ids need uniqueness, not cryptography.
  thread_local uint64_t s0 = std::random_device{}() * 0x9E3779B97F4A7C15ull | 1;
  thread_local uint64_t s1 = std::random_device{}() * 0xBF58476D1CE4E5B9ull | 1;
  auto next = [] {
    uint64_t x = s0;
    const uint64_t y = s1;
    s0 = y;
    x ^= x << 23;
    s1 = x ^ y ^ (x >> 17) ^ (y >> 26);
    return s1 + y;
  };
  uint64_t a = next(), b = next();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL; // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t pos = 0;
  auto put = [&](uint64_t v, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i)
      out[pos++] = kHex[(v >> (i * 4)) & 0xf];
  };
  put(a >> 32, 8);
  ++pos;
  put(a >> 16, 4);
  ++pos;
  put(a, 4);
  ++pos;
  put(b >> 48, 4);
  ++pos;
  put(b, 12);
  return out;
}
} // namespace

void normalizePath(std::string& target, bool remove_dot_segments, bool merge_slashes) {
  if (target.empty() || target[0] != '/')
    return; // '*' and authority forms are left alone
  size_t q = target.find('?');
  std::string path = target.substr(0, q);
  std::string query = q == std::string::npos ? "" : target.substr(q);
  if (merge_slashes) {
    std::string merged;
    for (char c : path)
      if (!(c == '/' && !merged.empty() && merged.back() == '/'))
        merged.push_back(c);
    path.swap(merged);
  }
  if (remove_dot_segments) {
    // RFC 3986 5.2.4 over '/'-separated segments ("/../a" stays at the root: "/a").
    std::vector<std::string_view> out;
    std::string_view rest(path);
    bool trailing_slash = false;
    size_t pos = 1;
    while (pos <= rest.size()) {
      size_t next = rest.find('/', pos);
      if (next == std::string_view::npos)
        next = rest.size();
      std::string_view seg = rest.substr(pos, next - pos);
      bool last = next == rest.size();
      if (seg == ".") {
        trailing_slash = last;
      } else if (seg == "..") {
        if (!out.empty())
          out.pop_back();
        trailing_slash = last;
      } else {
        out.push_back(seg);
        trailing_slash = false;
      }
      pos = next + 1;
    }
    std::string rebuilt;
    for (auto seg : out) {
      rebuilt.push_back('/');
      rebuilt.append(seg);
    }
    if (rebuilt.empty() || trailing_slash)
      rebuilt.push_back('/');
    path.swap(rebuilt);
  }
  target = path + query;
}

void ActiveStream::mutateRequestHeaders() {
  const auto& cfg = cm_.config_->cfg;
  http1::removeHopByHopHeaders(request_headers_);
  if (!request_headers_.has(":scheme"))
    request_headers_.add(":scheme", "http");
  if (cfg.use_remote_address || !request_headers_.has("x-forwarded-proto"))
    request_headers_.set("x-forwarded-proto", "http");
  if (cfg.use_remote_address && !cfg.skip_xff_append) {
    const std::string& ip = cm_.connection_->remoteAddress().ip;
    if (const std::string* xff = request_headers_.get("x-forwarded-for"))
      request_headers_.set("x-forwarded-for", *xff + "," + ip);
    else
      request_headers_.add("x-forwarded-for", ip);
  }
  if (cfg.generate_request_id && !request_headers_.has("x-request-id"))
    request_headers_.add("x-request-id", makeUuid());
}

void ActiveStream::decodeHeaders(HeaderMap&& headers, bool end_stream) {
  request_headers_ = std::move(headers);
  request_complete_ = end_stream;
  resetIdleTimer();
  const auto& cfg = cm_.config_->cfg;
  if (info_.protocol == "HTTP/1.0") {
    // Envoy refuses HTTP/1.0 unless http_protocol_options.accept_http_10 is set.
    if (!cfg.accept_http_10) {
      sendLocalReply(426, "", nullptr, "http1.0_not_allowed");
      return;
    }
    if (!request_headers_.has(":authority") && !cfg.default_host_for_http_10.empty())
      request_headers_.add(":authority", cfg.default_host_for_http_10);
  }
  if ((cfg.normalize_path || cfg.merge_slashes) && !request_headers_.path().empty()) {
    std::string normalized(request_headers_.path());
    normalizePath(normalized, cfg.normalize_path, cfg.merge_slashes);
    if (normalized != request_headers_.path())
      request_headers_.set(":path", normalized);
  }
  if (expect_continue_) {
    // Answer 100 Continue ourselves (Envoy's default) so the client sends the body.
    request_headers_.remove("expect");
    if (!end_stream) {
      HeaderMap h;
      h.add(":status", "100");
      encoder_.encode1xxHeaders(h);
    }
  }
  mutateRequestHeaders();
  if (end_stream && request_timer_)
    request_timer_->disableTimer();
  decode_iter_.onHeaders(end_stream);
}

void ActiveStream::decodeData(Buffer& data, bool end_stream) {
  info_.bytes_received += data.size();
  resetIdleTimer();
  if (end_stream) {
    request_complete_ = true;
    if (request_timer_)
      request_timer_->disableTimer();
  }
  if (decode_done_) {
    data.clear();
    return;
  }
  decode_iter_.onData(data, end_stream);
}

void ActiveStream::decodeTrailers(HeaderMap&& trailers) {
  request_complete_ = true;
  if (request_timer_)
    request_timer_->disableTimer();
  if (decode_done_)
    return;
  request_trailers_ = std::move(trailers);
  has_request_trailers_ = true;
  decode_iter_.onTrailers(request_trailers_);
}

void ActiveStream::DecodeAdapter::onBufferOverflow() {
  s.cm_.config_->stats->downstream_rq_too_large.inc();
  s.sendLocalReply(413, "Payload Too Large", nullptr, "request_payload_too_large");
}

void ActiveStream::EncodeAdapter::onBufferOverflow() {
  // Envoy: a response body over the buffer limit is a 500 if nothing was sent yet.
  if (!s.codec_headers_sent_) {
    s.encode_done_ = true; // stop the encoder chain; the local reply bypasses it
    s.response_headers_.clear();
    HeaderMap h;
    h.add(":status", "500");
    std::string body = "Internal Server Error";
    h.add("content-length", std::to_string(body.size()));
    h.add("content-type", "text/plain");
    s.info_.response_code_details = "response_payload_too_large";
    s.writeHeaders(h, false);
    Buffer b;
    b.append(body);
    s.writeData(b, true);
  } else {
    s.resetStream();
  }
}

void ActiveStream::sendLocalReply(uint32_t status, std::string_view body,
                                  const std::function<void(HeaderMap&)>& modify_headers,
                                  std::string_view details) {
  if (finished_ || reset_)
    return;
  decode_done_ = true;
  info_.response_code_details = std::string(details);
  if (codec_headers_sent_) {
    // Too late for a different response: end the stream.
    resetStream();
    return;
  }
  HeaderMap h;
  h.add(":status", std::to_string(status));
  if (!body.empty()) {
    h.add("content-length", std::to_string(body.size()));
    h.add("content-type", "text/plain");
  }
  if (modify_headers)
    modify_headers(h);
  if (!request_complete_)
    cm_.codec_.setCloseAfterResponse();
  Buffer b;
  b.append(body);
  if (encode_started_) {
    // An encoder filter is mid-response: the local reply goes straight to the codec.
    encode_done_ = true;
    writeHeaders(h, body.empty());
    if (!body.empty())
      writeData(b, true);
    return;
  }
  encodeHeadersFromFilter(std::move(h), body.empty(), details);
  if (!body.empty() && !reset_ && !finished_)
    encodeDataFromFilter(b, true);
}

void ActiveStream::encode1xx(HeaderMap&& headers) {
  if (!codec_headers_sent_)
    encoder_.encode1xxHeaders(headers);
}

void ActiveStream::encodeHeadersFromFilter(HeaderMap&& headers, bool end_stream, std::string_view details) {
  if (reset_ || finished_)
    return;
  // The request keeps being decoded (an upstream may answer before the upload ends).
  encode_started_ = true;
  if (info_.response_code_details.empty())
    info_.response_code_details = std::string(details);
  response_headers_ = std::move(headers);
  info_.response_headers = &response_headers_;
  resetIdleTimer();
  encode_iter_.onHeaders(end_stream);
}

void ActiveStream::encodeDataFromFilter(Buffer& data, bool end_stream) {
  if (reset_ || finished_ || encode_done_)
    return;
  resetIdleTimer();
  encode_iter_.onData(data, end_stream);
}

void ActiveStream::encodeTrailersFromFilter(HeaderMap&& trailers) {
  if (reset_ || finished_ || encode_done_)
    return;
  response_trailers_ = std::move(trailers);
  has_response_trailers_ = true;
  info_.response_trailers = &response_trailers_;
  encode_iter_.onTrailers(response_trailers_);
}

void ActiveStream::writeHeaders(HeaderMap& headers, bool end_stream) {
  codec_headers_sent_ = true;
  uint32_t code = headers.status();
  info_.response_code = code;
  const auto& cfg = *cm_.config_;
  headers.set("server", cfg.cfg.server_name);
  if (code >= 100 && code < 600)
    cfg.stats->rq_class[code / 100]->inc();
  if (&headers != &response_headers_) {
    response_headers_ = headers;
    info_.response_headers = &response_headers_;
  }
  if (!request_complete_)
    cm_.codec_.setCloseAfterResponse();
  encoder_.encodeHeaders(headers, end_stream);
  if (end_stream)
    onResponseComplete();
}

void ActiveStream::writeData(Buffer& data, bool end_stream) {
  info_.bytes_sent += data.size();
  encoder_.encodeData(data, end_stream);
  if (end_stream)
    onResponseComplete();
}

void ActiveStream::writeTrailers(HeaderMap& trailers) {
  encoder_.encodeTrailers(trailers);
  onResponseComplete();
}

void ActiveStream::onResponseComplete() {
  encode_done_ = true;
  decode_done_ = true;
  info_.last_downstream_tx = dispatcher().now();
  finish();
  cm_.onStreamComplete();
}

void ActiveStream::finish() {
  if (finished_)
    return;
  finished_ = true;
  info_.end_steady = std::chrono::steady_clock::now();
  idle_timer_.reset();
  request_timer_.reset();
  if (read_disabled_by_filter_ || read_disabled_by_encode_) {
    read_disabled_by_filter_ = read_disabled_by_encode_ = false;
    cm_.connection_->readDisable(false);
  }
  auto& st = *cm_.config_->stats;
  st.downstream_rq_active.dec();
  st.downstream_rq_completed.inc();
  st.downstream_rq_time.recordValue(uint64_t(info_.duration().count()));
  if (has_request_trailers_)
    info_.request_headers = &request_headers_;
  // Envoy's order: access-log handlers (Proxy-Wasm's proxy_on_log) see the finished stream
  // before the filters are destroyed.
  for (auto& h : log_handlers_)
    h->log(info_);
  for (auto& f : decoder_filters_)
    f->filter().onDestroy();
  for (auto& f : encoder_filters_)
    f->filter().onDestroy();
  for (auto& l : cm_.config_->access_logs)
    l->log(info_);
}

void ActiveStream::resetStream(uint32_t flag) {
  if (reset_ || finished_)
    return;
  reset_ = true;
  decode_done_ = true;
  if (flag)
    info_.setFlag(ResponseFlag(flag));
  if (!(flag & DownstreamConnectionTermination))
    cm_.config_->stats->downstream_rq_tx_reset.inc();
  finish();
  cm_.closeConnection(network::CloseType::FlushWrite);
}

void ActiveStream::onDownstreamWatermark(bool above) {
  for (auto* cb : watermark_callbacks_) {
    if (above)
      cb->onAboveWriteBufferHighWatermark();
    else
      cb->onBelowWriteBufferLowWatermark();
  }
}

void ActiveStream::readDisableDownstream(bool disable) {
  if (disable == read_disabled_by_filter_)
    return;
  read_disabled_by_filter_ = disable;
  cm_.connection_->readDisable(disable);
}

void ActiveStream::onEncodeBufferWatermark(bool above) {
  // An encoder filter buffering the response acts like a slow client for the router.
  onDownstreamWatermark(above);
}

void ActiveStream::resetIdleTimer() {
  // O(1): only note the activity; the timer re-arms itself for the remainder when it fires.
  last_activity_ = cm_.worker_.dispatcher().now();
}

void ActiveStream::onIdleTimeout() {
  auto idle_for = cm_.worker_.dispatcher().now() - last_activity_;
  auto limit = cm_.config_->stream_idle_timeout;
  if (idle_for < limit) {
    idle_timer_->enableTimer(std::chrono::duration_cast<std::chrono::milliseconds>(limit - idle_for) +
                             std::chrono::milliseconds(1));
    return;
  }
  cm_.config_->stats->downstream_rq_idle_timeout.inc();
  info_.setFlag(StreamIdleTimeout);
  if (!codec_headers_sent_)
    sendLocalReply(408, "stream timeout", nullptr, "stream_idle_timeout");
  else
    resetStream();
}

void ActiveStream::onRequestTimeout() {
  cm_.config_->stats->downstream_rq_timeout.inc();
  if (!codec_headers_sent_)
    sendLocalReply(408, "request timeout", nullptr, "request_overall_timeout");
  else
    resetStream();
}

// ---------------------------------------------------------------------------------------------
// Per-filter callbacks

event::Dispatcher& ActiveDecoderFilter::dispatcher() { return stream_.dispatcher(); }
StreamInfo& ActiveDecoderFilter::streamInfo() { return stream_.info_; }
uint64_t ActiveDecoderFilter::streamId() const { return stream_.id_; }
const router::RouteEntry* ActiveDecoderFilter::route() { return stream_.route(); }
void ActiveDecoderFilter::clearRouteCache() { stream_.clearRouteCache(); }
void ActiveDecoderFilter::resetStream() { stream_.resetStream(); }
HeaderMap* ActiveDecoderFilter::requestHeaders() { return &stream_.request_headers_; }
HeaderMap* ActiveDecoderFilter::responseHeaders() {
  return stream_.encode_started_ ? &stream_.response_headers_ : nullptr;
}
void ActiveDecoderFilter::sendLocalReply(uint32_t status, std::string_view body,
                                         const std::function<void(HeaderMap&)>& modify,
                                         std::string_view details) {
  stream_.sendLocalReply(status, body, modify, details);
}
void ActiveDecoderFilter::continueDecoding() {
  if (!stream_.decode_done_)
    stream_.decode_iter_.resume(index_);
}
Buffer* ActiveDecoderFilter::decodingBuffer() { return stream_.decode_iter_.bufferedBody(); }
HeaderMap* ActiveDecoderFilter::requestTrailers() {
  return stream_.has_request_trailers_ ? &stream_.request_trailers_ : nullptr;
}
HeaderMap& ActiveDecoderFilter::addDecodedTrailers() {
  stream_.has_request_trailers_ = true;
  stream_.decode_iter_.setTrailers(&stream_.request_trailers_);
  return stream_.request_trailers_;
}
void ActiveDecoderFilter::encode1xxHeaders(HeaderMap&& headers) { stream_.encode1xx(std::move(headers)); }
void ActiveDecoderFilter::encodeHeaders(HeaderMap&& headers, bool end_stream, std::string_view details) {
  stream_.encodeHeadersFromFilter(std::move(headers), end_stream, details);
}
void ActiveDecoderFilter::encodeData(Buffer& data, bool end_stream) {
  stream_.encodeDataFromFilter(data, end_stream);
}
void ActiveDecoderFilter::encodeTrailers(HeaderMap&& trailers) {
  stream_.encodeTrailersFromFilter(std::move(trailers));
}
void ActiveDecoderFilter::addDownstreamWatermarkCallbacks(DownstreamWatermarkCallbacks& cb) {
  stream_.watermark_callbacks_.push_back(&cb);
  if (stream_.cm_.above_watermark_)
    cb.onAboveWriteBufferHighWatermark();
}
void ActiveDecoderFilter::removeDownstreamWatermarkCallbacks(DownstreamWatermarkCallbacks& cb) {
  auto& v = stream_.watermark_callbacks_;
  v.erase(std::remove(v.begin(), v.end(), &cb), v.end());
}
void ActiveDecoderFilter::onDecoderFilterAboveWriteBufferHighWatermark() { stream_.readDisableDownstream(true); }
void ActiveDecoderFilter::onDecoderFilterBelowWriteBufferLowWatermark() { stream_.readDisableDownstream(false); }
uint32_t ActiveDecoderFilter::decoderBufferLimit() { return stream_.decoder_buffer_limit_; }
void ActiveDecoderFilter::setDecoderBufferLimit(uint32_t limit) { stream_.decoder_buffer_limit_ = limit; }

event::Dispatcher& ActiveEncoderFilter::dispatcher() { return stream_.dispatcher(); }
StreamInfo& ActiveEncoderFilter::streamInfo() { return stream_.info_; }
uint64_t ActiveEncoderFilter::streamId() const { return stream_.id_; }
const router::RouteEntry* ActiveEncoderFilter::route() { return stream_.route(); }
void ActiveEncoderFilter::clearRouteCache() { stream_.clearRouteCache(); }
void ActiveEncoderFilter::resetStream() { stream_.resetStream(); }
HeaderMap* ActiveEncoderFilter::requestHeaders() { return &stream_.request_headers_; }
HeaderMap* ActiveEncoderFilter::responseHeaders() { return &stream_.response_headers_; }
void ActiveEncoderFilter::sendLocalReply(uint32_t status, std::string_view body,
                                         const std::function<void(HeaderMap&)>& modify,
                                         std::string_view details) {
  stream_.sendLocalReply(status, body, modify, details);
}
void ActiveEncoderFilter::continueEncoding() {
  if (!stream_.encode_done_ && !stream_.reset_)
    stream_.encode_iter_.resume(index_);
}
Buffer* ActiveEncoderFilter::encodingBuffer() { return stream_.encode_iter_.bufferedBody(); }
HeaderMap* ActiveEncoderFilter::responseTrailers() {
  return stream_.has_response_trailers_ ? &stream_.response_trailers_ : nullptr;
}
HeaderMap& ActiveEncoderFilter::addEncodedTrailers() {
  stream_.has_response_trailers_ = true;
  stream_.info_.response_trailers = &stream_.response_trailers_;
  stream_.encode_iter_.setTrailers(&stream_.response_trailers_);
  return stream_.response_trailers_;
}
uint32_t ActiveEncoderFilter::encoderBufferLimit() { return stream_.cm_.config_->buffer_limit; }

} // namespace wasmgate::http
