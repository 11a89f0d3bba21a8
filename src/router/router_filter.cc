#include "router/router_filter.h"

#include <charconv>

#include "common/logger.h"
#include "event/dispatcher.h"
#include "http/http1/codec.h"

namespace wasmgate::router {

namespace {
constexpr size_t kRetryBufferLimit = 1024 * 1024;
constexpr std::string_view kResetPrefix =
    "upstream connect error or disconnect/reset before headers. reset reason: ";

// Jitter only needs to be cheap and differ between requests.
uint64_t fastRandom() {
  thread_local uint64_t state = 0x9E3779B97F4A7C15ull ^ uint64_t(reinterpret_cast<uintptr_t>(&state));
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

uint32_t parseRetryOn(const std::vector<std::string>& tokens) {
  uint32_t bits = 0;
  for (const auto& t : tokens) {
    if (t == "5xx") bits |= 1;
    else if (t == "gateway-error") bits |= 2;
    else if (t == "reset") bits |= 4;
    else if (t == "connect-failure") bits |= 8;
    else if (t == "retriable-status-codes") bits |= 16;
    else if (t == "retriable-4xx") bits |= 32;
  }
  return bits;
}
} // namespace

RouterFilter::~RouterFilter() { onDestroy(); }

http::FilterHeadersStatus RouterFilter::decodeHeaders(http::HeaderMap& headers, bool end_stream) {
  request_headers_ = &headers;
  downstream_end_ = end_stream;
  auto& info = callbacks_->streamInfo();
  config_.rq_total.inc();
  route_ = callbacks_->route();
  if (route_ == nullptr) {
    config_.no_route.inc();
    info.setFlag(http::NoRouteFound);
    callbacks_->sendLocalReply(404, "", nullptr, "route_not_found");
    return http::FilterHeadersStatus::StopIteration;
  }
  info.route_name = route_->name();
  const auto& rc = route_->config();
  switch (rc.action) {
  case config::Route::ActionKind::DirectResponse: {
    config_.rq_direct_response.inc();
    const RouteEntry* r = route_;
    const http::StreamInfo* si = &info;
    callbacks_->sendLocalReply(rc.direct_response.status, rc.direct_response.body,
                               [r, si](http::HeaderMap& h) { r->finalizeResponseHeaders(h, si); },
                               "direct_response");
    return http::FilterHeadersStatus::StopIteration;
  }
  case config::Route::ActionKind::Redirect: {
    config_.rq_redirect.inc();
    std::string location = route_->redirectUrl(headers);
    callbacks_->sendLocalReply(rc.redirect.response_code, "",
                               [&location](http::HeaderMap& h) { h.set("location", location); },
                               "redirect");
    return http::FilterHeadersStatus::StopIteration;
  }
  case config::Route::ActionKind::Route:
    break;
  }

  cluster_ = cm_.get(route_->clusterName());
  info.upstream_cluster = route_->clusterName();
  if (cluster_ == nullptr) {
    config_.no_cluster.inc();
    info.setFlag(http::NoClusterFound);
    callbacks_->sendLocalReply(503, "", nullptr, "cluster_not_found");
    return http::FilterHeadersStatus::StopIteration;
  }
  const auto& ci = cluster_->info();
  if (!ci.requests.tryInc()) {
    ci.stats().upstream_rq_pending_overflow.inc();
    info.setFlag(http::UpstreamOverflow);
    overflowReply();
    return http::FilterHeadersStatus::StopIteration;
  }
  counted_request_ = true;
  if (rc.route.retry_policy) {
    retries_left_ = rc.route.retry_policy->num_retries;
    retry_on_ = parseRetryOn(rc.route.retry_policy->retry_on);
  }
  route_->finalizeRequestHeaders(headers, &callbacks_->streamInfo());
  callbacks_->addDownstreamWatermarkCallbacks(*this);
  watermark_registered_ = true;
  startAttempt();
  startTimersIfRequestComplete();
  return http::FilterHeadersStatus::StopIteration;
}

void RouterFilter::overflowReply() {
  bool suppress = config_.suppress_envoy_headers;
  callbacks_->sendLocalReply(
      503, std::string(kResetPrefix) + "overflow",
      [suppress](http::HeaderMap& h) {
        if (!suppress)
          h.set("x-envoy-overloaded", "true");
      },
      "upstream_reset_before_response_started{overflow}");
}

void RouterFilter::startTimersIfRequestComplete() {
  if (!downstream_end_ || destroyed_ || response_done_)
    return;
  const auto& rc = route_->config().route;
  if (!global_timer_ && rc.timeout.count() > 0) {
    global_timer_.emplace(callbacks_->dispatcher(), [this] { onGlobalTimeout(); });
    global_timer_->enableTimer(rc.timeout);
  }
  if (rc.retry_policy && rc.retry_policy->per_try_timeout && !response_started_) {
    if (!per_try_timer_)
      per_try_timer_.emplace(callbacks_->dispatcher(), [this] { onPerTryTimeout(); });
    if (!per_try_timer_->enabled())
      per_try_timer_->enableTimer(*rc.retry_policy->per_try_timeout);
  }
}

void RouterFilter::startAttempt() {
  auto& info = callbacks_->streamInfo();
  host_ = cluster_->chooseHost(attempts_ > 0 && host_ ? host_.get() : nullptr);
  ++attempts_;
  info.attempt_count = attempts_;
  if (!host_) {
    cluster_->info().stats().upstream_cx_none_healthy.inc();
    info.setFlag(http::NoHealthyUpstream);
    upstreamFailure(503, "no_healthy_upstream", "no healthy upstream");
    return;
  }
  info.upstream_host = host_->address.text;
  attempt_start_ = callbacks_->dispatcher().now();
  // Each attempt gets its own per-try timeout once the request is complete.
  if (per_try_timer_)
    per_try_timer_->disableTimer();
  startTimersIfRequestComplete();
  pool_ = &cluster_->connPool(host_);
  upstream::ConnPool::Handle handle;
  if (pool_->newStream(*this, handle))
    pending_handle_ = handle;
}

void RouterFilter::onPoolReady(upstream::UpstreamClient& client) {
  pending_handle_.reset();
  client_ = &client;
  const auto& ci = cluster_->info();
  ci.stats().upstream_rq_total.inc();
  ci.stats().upstream_rq_active.inc();
  host_->active_requests.fetch_add(1, std::memory_order_relaxed);
  host_->rq_total.fetch_add(1, std::memory_order_relaxed);
  callbacks_->streamInfo().upstream_local_address = client.connection().localAddress().text;
  encoder_ = &client.startStream(upstream_callbacks_);
  bool end_now = downstream_end_ && pending_body_.empty() && retry_body_.empty() && !has_trailers_;
  encoder_->encodeHeaders(*request_headers_, end_now);
  if (end_now) {
    request_sent_end_ = true;
  } else {
    // A retry resends what the previous attempt already sent.
    if (!retry_body_.empty()) {
      Buffer copy;
      copy.append(retry_body_);
      copy.append(pending_body_);
      pending_body_.clear();
      pending_body_.move(copy);
      retry_body_.clear();
    }
    sendRequestBody();
  }
  // Body that piled up while connecting has been handed to the connection.
  if (downstream_read_disabled_ && client_ && !client_->connection().aboveHighWatermark()) {
    downstream_read_disabled_ = false;
    callbacks_->onDecoderFilterBelowWriteBufferLowWatermark();
  }
}

void RouterFilter::sendRequestBody() {
  if (encoder_ == nullptr)
    return;
  bool end = downstream_end_ && !has_trailers_;
  if (!pending_body_.empty() || end) {
    if (retries_left_ > 0 && !retry_body_overflow_) {
      if (retry_body_.size() + pending_body_.size() <= kRetryBufferLimit)
        retry_body_.append(pending_body_);
      else
        retry_body_overflow_ = true;
    }
    encoder_->encodeData(pending_body_, end);
    if (end)
      request_sent_end_ = true;
  }
  if (downstream_end_ && has_trailers_) {
    encoder_->encodeTrailers(request_trailers_);
    request_sent_end_ = true;
  }
}

http::FilterDataStatus RouterFilter::decodeData(Buffer& data, bool end_stream) {
  if (end_stream)
    downstream_end_ = true;
  pending_body_.move(data);
  if (encoder_ != nullptr)
    sendRequestBody();
  else if (pending_body_.size() > callbacks_->decoderBufferLimit() && !downstream_read_disabled_) {
    // Upstream not connected yet: stop reading the client until it is.
    downstream_read_disabled_ = true;
    callbacks_->onDecoderFilterAboveWriteBufferHighWatermark();
  }
  startTimersIfRequestComplete();
  return http::FilterDataStatus::StopIterationNoBuffer;
}

http::FilterTrailersStatus RouterFilter::decodeTrailers(http::HeaderMap& trailers) {
  downstream_end_ = true;
  has_trailers_ = true;
  request_trailers_ = trailers;
  if (encoder_ != nullptr)
    sendRequestBody();
  startTimersIfRequestComplete();
  return http::FilterTrailersStatus::StopIteration;
}

void RouterFilter::onPoolFailure(upstream::PoolFailureReason reason, std::string_view detail) {
  pending_handle_.reset();
  auto& info = callbacks_->streamInfo();
  if (reason == upstream::PoolFailureReason::Overflow) {
    info.setFlag(http::UpstreamOverflow);
    overflowReply();
    return;
  }
  host_->rq_error.fetch_add(1, std::memory_order_relaxed);
  info.upstream_transport_failure_reason = std::string(detail);
  if (retryAllowed(uint32_t(RetryOn::ConnectFailure) | uint32_t(RetryOn::Reset) |
                   uint32_t(RetryOn::FiveXX) | uint32_t(RetryOn::GatewayError))) {
    scheduleRetry();
    return;
  }
  info.setFlag(http::UpstreamConnectionFailure);
  if (attempts_ > 1) {
    info.setFlag(http::UpstreamRetryLimitExceeded);
    cluster_->info().stats().upstream_rq_retry_limit_exceeded.inc();
  }
  std::string body = std::string(kResetPrefix) + "connection failure";
  if (!detail.empty())
    body += ", transport failure reason: " + std::string(detail);
  upstreamFailure(502, "upstream_reset_before_response_started{connection_failure}", body);
}

bool RouterFilter::retryAllowed(uint32_t cause) {
  if ((retry_on_ & cause) == 0 || retries_left_ == 0 || retry_body_overflow_ || response_started_)
    return false;
  // Circuit breaker: retries waiting to start, across all workers.
  const auto& ci = cluster_->info();
  if (!ci.retries.tryInc()) {
    ci.stats().upstream_rq_retry_overflow.inc();
    return false;
  }
  --retries_left_;
  return true;
}

void RouterFilter::scheduleRetry() {
  cluster_->info().stats().upstream_rq_retry.inc();
  if (per_try_timer_)
    per_try_timer_->disableTimer();
  if (!retry_timer_)
    retry_timer_.emplace(callbacks_->dispatcher(), [this] {
      cluster_->info().retries.dec();
      startAttempt();
    });
  // Envoy's default back-off: base 25ms, jittered.
  uint32_t base = 25u << std::min<uint32_t>(attempts_ - 1, 4);
  retry_timer_->enableTimer(std::chrono::milliseconds(fastRandom() % base));
}

bool RouterFilter::shouldRetryStatus(uint32_t status) const {
  if ((retry_on_ & uint32_t(RetryOn::FiveXX)) && status >= 500)
    return true;
  if ((retry_on_ & uint32_t(RetryOn::GatewayError)) && (status == 502 || status == 503 || status == 504))
    return true;
  if ((retry_on_ & uint32_t(RetryOn::Retriable4xx)) && status == 409)
    return true;
  if (retry_on_ & uint32_t(RetryOn::RetriableStatusCodes)) {
    const auto& codes = route_->config().route.retry_policy->retriable_status_codes;
    for (uint32_t c : codes)
      if (c == status)
        return true;
  }
  return false;
}

void RouterFilter::finishUpstreamAccounting() {
  if (client_ == nullptr)
    return;
  cluster_->info().stats().upstream_rq_active.dec();
  cluster_->info().stats().upstream_rq_completed.inc();
  host_->active_requests.fetch_sub(1, std::memory_order_relaxed);
}

void RouterFilter::releaseUpstream(bool reusable) {
  if (client_ == nullptr)
    return;
  finishUpstreamAccounting();
  upstream::UpstreamClient* c = client_;
  client_ = nullptr;
  encoder_ = nullptr;
  if (upstream_read_disabled_) {
    c->readDisable(false);
    upstream_read_disabled_ = false;
  }
  if (reusable && request_sent_end_)
    c->releaseStream();
  else
    c->resetStream();
}

void RouterFilter::onUpstream1xxHeaders(http::HeaderMap&& headers) {
  // 100 Continue was already answered by the connection manager; pass other 1xx on.
  if (headers.status() != 100)
    callbacks_->encode1xxHeaders(std::move(headers));
}

void RouterFilter::onUpstreamHeaders(http::HeaderMap&& headers, bool end_stream) {
  uint32_t status = headers.status();
  if (!response_started_ && shouldRetryStatus(status) && request_sent_end_ &&
      retryAllowed(uint32_t(RetryOn::FiveXX) | uint32_t(RetryOn::GatewayError) |
                   uint32_t(RetryOn::RetriableStatusCodes) | uint32_t(RetryOn::Retriable4xx))) {
    cluster_->info().chargeResponseCode(status);
    releaseUpstream(false);
    scheduleRetry();
    return;
  }
  response_started_ = true;
  if (per_try_timer_)
    per_try_timer_->disableTimer();
  if (attempts_ > 1)
    cluster_->info().stats().upstream_rq_retry_success.inc();
  cluster_->info().chargeResponseCode(status);
  auto& info = callbacks_->streamInfo();
  info.first_upstream_rx = callbacks_->dispatcher().now();
  auto service_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - attempt_start_)
                        .count();
  info.upstream_service_time_ms = uint32_t(service_ms);
  http::http1::removeHopByHopHeaders(headers);
  if (!config_.suppress_envoy_headers) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof(buf), service_ms);
    headers.set("x-envoy-upstream-service-time", std::string_view(buf, size_t(r.ptr - buf)));
  }
  route_->finalizeResponseHeaders(headers, &callbacks_->streamInfo());
  if (end_stream)
    onResponseDone();
  callbacks_->encodeHeaders(std::move(headers), end_stream, "via_upstream");
}

void RouterFilter::onUpstreamData(Buffer& data, bool end_stream) {
  if (end_stream)
    onResponseDone();
  callbacks_->encodeData(data, end_stream);
}

void RouterFilter::onUpstreamTrailers(http::HeaderMap&& trailers) {
  onResponseDone();
  callbacks_->encodeTrailers(std::move(trailers));
}

void RouterFilter::onResponseDone() {
  response_done_ = true;
  global_timer_.reset();
  per_try_timer_.reset();
  releaseUpstream(true);
}

void RouterFilter::onUpstreamReset(upstream::ResetReason reason, std::string_view detail) {
  // The pool already dropped the connection; only the accounting is left.
  finishUpstreamAccounting();
  client_ = nullptr;
  encoder_ = nullptr;
  upstream_read_disabled_ = false;
  host_->rq_error.fetch_add(1, std::memory_order_relaxed);
  cluster_->info().stats().upstream_rq_rx_reset.inc();
  auto& info = callbacks_->streamInfo();
  if (response_started_) {
    // Mid-response: nothing sensible can be sent; the client sees the connection end.
    config_.rq_reset_after_downstream_response_started.inc();
    info.setFlag(http::UpstreamConnectionTermination);
    callbacks_->resetStream();
    return;
  }
  if (reason == upstream::ResetReason::ProtocolError) {
    info.setFlag(http::UpstreamProtocolError);
    upstreamFailure(502, "upstream_reset_before_response_started{protocol_error}",
                    std::string(kResetPrefix) + "protocol error");
    return;
  }
  if (retryAllowed(uint32_t(RetryOn::Reset) | uint32_t(RetryOn::FiveXX) | uint32_t(RetryOn::GatewayError))) {
    scheduleRetry();
    return;
  }
  info.setFlag(http::UpstreamConnectionTermination);
  if (attempts_ > 1) {
    info.setFlag(http::UpstreamRetryLimitExceeded);
    cluster_->info().stats().upstream_rq_retry_limit_exceeded.inc();
  }
  upstreamFailure(502, "upstream_reset_before_response_started{connection_termination}",
                  std::string(kResetPrefix) + "connection termination");
}

void RouterFilter::upstreamFailure(uint32_t status, std::string_view details, std::string_view body) {
  response_done_ = true;
  global_timer_.reset();
  per_try_timer_.reset();
  callbacks_->sendLocalReply(status, body, nullptr, details);
}

void RouterFilter::onGlobalTimeout() {
  cluster_->info().stats().upstream_rq_timeout.inc();
  auto& info = callbacks_->streamInfo();
  info.setFlag(http::UpstreamRequestTimeout);
  if (pending_handle_) {
    pool_->cancel(*pending_handle_);
    pending_handle_.reset();
  }
  if (retry_timer_ && retry_timer_->enabled()) {
    retry_timer_->disableTimer();
    cluster_->info().retries.dec();
  }
  releaseUpstream(false);
  if (response_started_) {
    callbacks_->resetStream();
    return;
  }
  upstreamFailure(504, "upstream_response_timeout", "upstream request timeout");
}

void RouterFilter::onPerTryTimeout() {
  cluster_->info().stats().upstream_rq_per_try_timeout.inc();
  if (pending_handle_) {
    pool_->cancel(*pending_handle_);
    pending_handle_.reset();
  }
  releaseUpstream(false);
  if (retryAllowed(uint32_t(RetryOn::FiveXX) | uint32_t(RetryOn::GatewayError) | uint32_t(RetryOn::Reset))) {
    scheduleRetry();
    return;
  }
  callbacks_->streamInfo().setFlag(http::UpstreamRequestTimeout);
  upstreamFailure(504, "upstream_per_try_timeout", "upstream request timeout");
}

void RouterFilter::onUpstreamAboveWriteBufferHighWatermark() {
  if (!downstream_read_disabled_) {
    downstream_read_disabled_ = true;
    callbacks_->onDecoderFilterAboveWriteBufferHighWatermark();
  }
}

void RouterFilter::onUpstreamBelowWriteBufferLowWatermark() {
  if (downstream_read_disabled_) {
    downstream_read_disabled_ = false;
    callbacks_->onDecoderFilterBelowWriteBufferLowWatermark();
  }
}

void RouterFilter::onAboveWriteBufferHighWatermark() {
  if (client_ != nullptr && !upstream_read_disabled_) {
    upstream_read_disabled_ = true;
    client_->readDisable(true);
  }
}

void RouterFilter::onBelowWriteBufferLowWatermark() {
  if (client_ != nullptr && upstream_read_disabled_) {
    upstream_read_disabled_ = false;
    client_->readDisable(false);
  }
}

void RouterFilter::onDestroy() {
  if (destroyed_)
    return;
  destroyed_ = true;
  global_timer_.reset();
  per_try_timer_.reset();
  if (retry_timer_ && retry_timer_->enabled())
    cluster_->info().retries.dec();
  retry_timer_.reset();
  if (pending_handle_) {
    pool_->cancel(*pending_handle_);
    pending_handle_.reset();
  }
  if (client_ != nullptr) {
    // The client went away (or the stream was reset) mid-exchange: cancel upstream.
    if (!response_done_)
      cluster_->info().stats().upstream_rq_tx_reset.inc();
    releaseUpstream(response_done_);
  }
  if (downstream_read_disabled_ && callbacks_) {
    downstream_read_disabled_ = false;
    callbacks_->onDecoderFilterBelowWriteBufferLowWatermark();
  }
  if (watermark_registered_ && callbacks_) {
    callbacks_->removeDownstreamWatermarkCallbacks(*this);
    watermark_registered_ = false;
  }
  if (counted_request_) {
    cluster_->info().requests.dec();
    counted_request_ = false;
  }
}

} // namespace wasmgate::router
