#pragma once

// The terminal HTTP filter: picks the route's cluster and host, sends the request upstream
// through the worker's connection pool, streams the response back, and owns timeouts,
// retries and the upstream failure answers.

#include <memory>
#include <optional>

#include "http/filter.h"
#include "stats/stats.h"
#include "router/route_table.h"
#include "upstream/cluster_manager.h"
#include "upstream/conn_pool.h"

namespace wasmgate::router {

// Per-HCM router settings and its stats (Envoy names them http.<stat_prefix>.*).
struct RouterConfig {
  RouterConfig(stats::Store& store, const std::string& stat_prefix, bool suppress)
      : suppress_envoy_headers(suppress),
        no_route(store.counter("http." + stat_prefix + ".no_route")),
        no_cluster(store.counter("http." + stat_prefix + ".no_cluster")),
        rq_redirect(store.counter("http." + stat_prefix + ".rq_redirect")),
        rq_direct_response(store.counter("http." + stat_prefix + ".rq_direct_response")),
        rq_total(store.counter("http." + stat_prefix + ".rq_total")),
        rq_reset_after_downstream_response_started(
            store.counter("http." + stat_prefix + ".rq_reset_after_downstream_response_started")) {}
  bool suppress_envoy_headers;
  stats::Counter& no_route;
  stats::Counter& no_cluster;
  stats::Counter& rq_redirect;
  stats::Counter& rq_direct_response;
  stats::Counter& rq_total;
  stats::Counter& rq_reset_after_downstream_response_started;
};

class RouterFilter : public http::StreamDecoderFilter,
                     public upstream::PoolCallbacks,
                     public http::DownstreamWatermarkCallbacks {
public:
  RouterFilter(const RouterConfig& config, upstream::WorkerClusterManager& cm) : config_(config), cm_(cm) {}
  ~RouterFilter() override;

  // StreamDecoderFilter
  http::FilterHeadersStatus decodeHeaders(http::HeaderMap& headers, bool end_stream) override;
  http::FilterDataStatus decodeData(Buffer& data, bool end_stream) override;
  http::FilterTrailersStatus decodeTrailers(http::HeaderMap& trailers) override;
  void setDecoderFilterCallbacks(http::StreamDecoderFilterCallbacks& cb) override { callbacks_ = &cb; }
  void onDestroy() override;

  // PoolCallbacks
  void onPoolReady(upstream::UpstreamClient& client) override;
  void onPoolFailure(upstream::PoolFailureReason reason, std::string_view detail) override;

  // The response side (upstream::UpstreamStreamCallbacks, through upstream_callbacks_).
  void onUpstream1xxHeaders(http::HeaderMap&& headers);
  void onUpstreamHeaders(http::HeaderMap&& headers, bool end_stream);
  void onUpstreamData(Buffer& data, bool end_stream);
  void onUpstreamTrailers(http::HeaderMap&& trailers);
  void onUpstreamReset(upstream::ResetReason reason, std::string_view detail);
  void onUpstreamAboveWriteBufferHighWatermark();
  void onUpstreamBelowWriteBufferLowWatermark();

  // DownstreamWatermarkCallbacks: the client is slow, stop reading the upstream.
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

private:
  // Adapts the upstream response callbacks (whose names clash with the filter's decode*).
  struct UpstreamCallbacks : public upstream::UpstreamStreamCallbacks {
    explicit UpstreamCallbacks(RouterFilter& r) : router(r) {}
    void decode1xxHeaders(http::HeaderMap&& h) override { router.onUpstream1xxHeaders(std::move(h)); }
    void decodeHeaders(http::HeaderMap&& h, bool end) override { router.onUpstreamHeaders(std::move(h), end); }
    void decodeData(Buffer& d, bool end) override { router.onUpstreamData(d, end); }
    void decodeTrailers(http::HeaderMap&& t) override { router.onUpstreamTrailers(std::move(t)); }
    void onUpstreamReset(upstream::ResetReason r, std::string_view d) override { router.onUpstreamReset(r, d); }
    void onUpstreamAboveWriteBufferHighWatermark() override { router.onUpstreamAboveWriteBufferHighWatermark(); }
    void onUpstreamBelowWriteBufferLowWatermark() override { router.onUpstreamBelowWriteBufferLowWatermark(); }
    RouterFilter& router;
  };
  UpstreamCallbacks upstream_callbacks_{*this};

  enum class RetryOn : uint32_t {
    FiveXX = 1, GatewayError = 2, Reset = 4, ConnectFailure = 8, RetriableStatusCodes = 16,
    Retriable4xx = 32,
  };
  void startAttempt();
  void overflowReply();
  void sendRequestBody();
  void onResponseDone();
  void releaseUpstream(bool reusable);
  bool retryAllowed(uint32_t cause);
  bool shouldRetryStatus(uint32_t status) const;
  void scheduleRetry();
  void onGlobalTimeout();
  void onPerTryTimeout();
  void startTimersIfRequestComplete();
  void upstreamFailure(uint32_t status, std::string_view details, std::string_view body);
  void finishUpstreamAccounting();

  const RouterConfig& config_;
  upstream::WorkerClusterManager& cm_;
  http::StreamDecoderFilterCallbacks* callbacks_ = nullptr;
  const RouteEntry* route_ = nullptr;
  upstream::ThreadLocalCluster* cluster_ = nullptr;
  http::HeaderMap* request_headers_ = nullptr;
  http::HeaderMap request_trailers_;
  bool has_trailers_ = false;
  bool downstream_end_ = false;      // the whole request has arrived
  Buffer pending_body_;              // body not yet sent upstream
  Buffer retry_body_;                // everything sent, kept while a retry may resend it
  bool retry_body_overflow_ = false; // too big to keep: no more retries
  upstream::HostSharedPtr host_;
  upstream::ConnPool* pool_ = nullptr;
  std::optional<upstream::ConnPool::Handle> pending_handle_;
  upstream::UpstreamClient* client_ = nullptr;
  http::RequestEncoder* encoder_ = nullptr;
  bool request_sent_end_ = false;
  bool response_started_ = false;
  bool response_done_ = false;
  bool counted_request_ = false;     // holds a cluster `requests` resource
  bool upstream_read_disabled_ = false;
  bool downstream_read_disabled_ = false;
  bool watermark_registered_ = false;
  bool destroyed_ = false;
  uint32_t retries_left_ = 0;
  uint32_t retry_on_ = 0;
  uint32_t attempts_ = 0;
  std::optional<event::Timer> global_timer_;
  std::optional<event::Timer> per_try_timer_;
  std::optional<event::Timer> retry_timer_;
  event::MonotonicTime attempt_start_;
};

} // namespace wasmgate::router
