#include "upstream/async_client.h"

#include "upstream/cluster_manager.h"

namespace wasmgate::upstream {

std::unique_ptr<AsyncRequest> AsyncRequest::send(ThreadLocalCluster& cluster, event::Dispatcher& dispatcher,
                                                 http::HeaderMap headers, std::string body,
                                                 http::HeaderMap trailers,
                                                 std::optional<std::chrono::milliseconds> timeout,
                                                 AsyncRequestCallbacks& callbacks) {
  std::unique_ptr<AsyncRequest> request(new AsyncRequest(cluster, dispatcher, std::move(headers),
                                                         std::move(body), std::move(trailers),
                                                         callbacks));
  request->start(timeout);
  return request;
}

AsyncRequest::AsyncRequest(ThreadLocalCluster& cluster, event::Dispatcher& dispatcher,
                           http::HeaderMap headers, std::string body, http::HeaderMap trailers,
                           AsyncRequestCallbacks& callbacks)
    : cluster_(cluster), dispatcher_(dispatcher), request_headers_(std::move(headers)),
      request_body_(std::move(body)), request_trailers_(std::move(trailers)), callbacks_(callbacks) {}

AsyncRequest::~AsyncRequest() { cancel(); }

void AsyncRequest::start(std::optional<std::chrono::milliseconds> timeout) {
  if (!request_body_.empty() && !request_headers_.has("content-length") &&
      !request_headers_.has("transfer-encoding"))
    request_headers_.set("content-length", std::to_string(request_body_.size()));
  if (timeout) {
    timer_ = dispatcher_.createTimer([this] { onTimeout(); });
    timer_->enableTimer(*timeout);
  }
  host_ = cluster_.chooseHost();
  if (!host_) {
    cluster_.info().stats().upstream_cx_none_healthy.inc();
    finishWithLocalReply(503, "no healthy upstream");
    return;
  }
  pool_ = &cluster_.connPool(host_);
  ConnPool::Handle handle;
  if (pool_->newStream(*this, handle))
    pending_ = handle;
}

void AsyncRequest::onPoolReady(UpstreamClient& client) {
  pending_.reset();
  if (done_) { // cannot happen: a finished request is no longer in the pool
    client.releaseStream();
    return;
  }
  client_ = &client;
  const auto& stats = cluster_.info().stats();
  stats.upstream_rq_total.inc();
  stats.upstream_rq_active.inc();
  host_->active_requests.fetch_add(1, std::memory_order_relaxed);
  host_->rq_total.fetch_add(1, std::memory_order_relaxed);
  http::RequestEncoder& encoder = client.startStream(*this);
  const bool has_body = !request_body_.empty();
  const bool has_trailers = !request_trailers_.empty();
  encoder.encodeHeaders(request_headers_, !has_body && !has_trailers);
  if (has_body) {
    Buffer body;
    body.append(request_body_);
    encoder.encodeData(body, !has_trailers);
  }
  if (has_trailers)
    encoder.encodeTrailers(request_trailers_);
}

void AsyncRequest::onPoolFailure(PoolFailureReason reason, std::string_view detail) {
  pending_.reset();
  // Envoy's router local reply for a request that never reached the upstream.
  std::string body = "upstream connect error or disconnect/reset before headers. reset reason: ";
  body += reason == PoolFailureReason::Overflow ? "overflow" : "connection failure";
  if (!detail.empty() && reason != PoolFailureReason::Overflow) {
    body += ", transport failure reason: ";
    body += detail;
  }
  finishWithLocalReply(503, body);
}

void AsyncRequest::decodeHeaders(http::HeaderMap&& headers, bool end_stream) {
  response_started_ = true;
  response_.headers = std::move(headers);
  if (end_stream)
    finishWithResponse();
}

void AsyncRequest::decodeData(Buffer& data, bool end_stream) {
  response_.body.append(data.view());
  if (end_stream)
    finishWithResponse();
}

void AsyncRequest::decodeTrailers(http::HeaderMap&& trailers) {
  response_.trailers = std::move(trailers);
  finishWithResponse();
}

void AsyncRequest::onUpstreamReset(ResetReason reason, std::string_view detail) {
  // The client is gone with the connection.
  if (client_ != nullptr) {
    cluster_.info().stats().upstream_rq_active.dec();
    host_->active_requests.fetch_sub(1, std::memory_order_relaxed);
    client_ = nullptr;
  }
  if (done_)
    return;
  if (!response_started_) {
    std::string body = "upstream connect error or disconnect/reset before headers. reset reason: ";
    body += resetReasonString(reason);
    finishWithLocalReply(503, body);
    return;
  }
  done_ = true;
  timer_.reset();
  callbacks_.onAsyncFailure("reset");
}

void AsyncRequest::onTimeout() {
  if (done_)
    return;
  cluster_.info().stats().upstream_rq_timeout.inc();
  finishWithLocalReply(504, "upstream request timeout");
}

void AsyncRequest::releaseUpstream(bool reusable) {
  if (pending_) {
    pool_->cancel(*pending_);
    pending_.reset();
  }
  if (client_ == nullptr)
    return;
  cluster_.info().stats().upstream_rq_active.dec();
  cluster_.info().stats().upstream_rq_completed.inc();
  host_->active_requests.fetch_sub(1, std::memory_order_relaxed);
  UpstreamClient* c = client_;
  client_ = nullptr;
  if (reusable)
    c->releaseStream();
  else
    c->resetStream();
}

void AsyncRequest::finishWithLocalReply(uint32_t status, std::string_view body) {
  done_ = true;
  timer_.reset();
  releaseUpstream(false);
  AsyncResponse reply;
  reply.headers.add(":status", std::to_string(status));
  reply.headers.add("content-length", std::to_string(body.size()));
  reply.headers.add("content-type", "text/plain");
  reply.body.append(body);
  callbacks_.onAsyncSuccess(std::move(reply));
}

void AsyncRequest::finishWithResponse() {
  done_ = true;
  timer_.reset();
  releaseUpstream(true);
  callbacks_.onAsyncSuccess(std::move(response_));
}

void AsyncRequest::cancel() {
  if (done_)
    return;
  done_ = true;
  timer_.reset();
  releaseUpstream(false);
}

} // namespace wasmgate::upstream
