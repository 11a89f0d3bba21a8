#pragma once

// The HTTP connection manager (Envoy's HCM): owns a downstream connection and its codec, runs
// one ActiveStream per request through the configured filter chain, applies the proxy's
// request/response header rules, timeouts, stats and access logs.

#include <chrono>
#include <list>
#include <memory>
#include <vector>

#include "accesslog/access_logger.h"
#include "config/bootstrap.h"
#include "event/dispatcher.h"
#include "http/filter.h"
#include "http/filter_iterator.h"
#include "http/http1/codec.h"
#include "network/active_connection.h"
#include "network/connection.h"
#include "router/route_table.h"
#include "stats/stats.h"

namespace wasmgate::upstream {
class WorkerClusterManager;
}

namespace wasmgate::http {

struct HcmStats {
  HcmStats(stats::Store& s, const std::string& prefix);
  stats::Counter& downstream_cx_total;
  stats::Gauge& downstream_cx_active;
  stats::Counter& downstream_cx_http1_total;
  stats::Gauge& downstream_cx_http1_active;
  stats::Counter& downstream_cx_destroy;
  stats::Counter& downstream_cx_destroy_remote;
  stats::Counter& downstream_cx_destroy_local;
  stats::Counter& downstream_cx_destroy_active_rq;
  stats::Counter& downstream_cx_protocol_error;
  stats::Counter& downstream_cx_idle_timeout;
  stats::Counter& downstream_cx_drain_close;
  stats::Counter& downstream_cx_rx_bytes_total;
  stats::Counter& downstream_cx_tx_bytes_total;
  stats::Counter& downstream_rq_total;
  stats::Counter& downstream_rq_http1_total;
  stats::Gauge& downstream_rq_active;
  stats::Counter& downstream_rq_completed;
  stats::Counter& downstream_rq_timeout;
  stats::Counter& downstream_rq_idle_timeout;
  stats::Counter& downstream_rq_header_timeout;
  stats::Counter& downstream_rq_rx_reset;
  stats::Counter& downstream_rq_tx_reset;
  stats::Counter& downstream_rq_too_large;
  stats::Histogram& downstream_rq_time;
  std::array<stats::Counter*, 6> rq_class{}; // downstream_rq_1xx..5xx at [1..5]
};

using ListenerStats = network::ListenerStats;

// Immutable per-listener HCM configuration, shared by every worker's connections. Streams
// keep a reference to it, so a config swap never changes a request in flight.
// What the HCM needs from the worker that owns it.
using WorkerContext = network::WorkerContext;

struct HcmConfig {
  config::HttpConnectionManagerConfig cfg;
  std::shared_ptr<const router::RouteTable> route_table;
  std::vector<FilterFactoryCb> filter_factories;
  std::vector<std::shared_ptr<accesslog::AccessLogger>> access_logs;
  std::unique_ptr<HcmStats> stats;
  uint32_t buffer_limit = 1024 * 1024;
  std::chrono::milliseconds stream_idle_timeout{300000};
  std::chrono::milliseconds request_timeout{0};
  std::chrono::milliseconds request_headers_timeout{0};
  std::chrono::milliseconds idle_timeout{3600000};
  // Run once on each worker thread when it starts (e.g. Wasm plugins start their root
  // contexts there, so timers tick before the first request).
  std::vector<std::function<void(WorkerContext&)>> worker_initializers;
};
using HcmConfigConstSharedPtr = std::shared_ptr<const HcmConfig>;

// Path normalization (normalize_path: RFC 3986 dot-segment removal; merge_slashes). The query
// string is left untouched.
void normalizePath(std::string& target, bool remove_dot_segments, bool merge_slashes);



class ConnectionManager;

class ActiveStream;

class ConnectionManager : public network::ConnectionCallbacks,
                          public http1::ServerCodecCallbacks,
                          public network::ActiveConnection {
public:
  ConnectionManager(WorkerContext& worker, network::ConnectionPtr connection,
                    HcmConfigConstSharedPtr config, ListenerStats& listener_stats);
  ~ConnectionManager() override;

  // Drain: finish the current request, then close (Connection: close on the response).
  void onDrain() override;
  // Reload: the next response (on the old configuration, which the connection holds) carries
  // Connection: close, so keep-alive clients move to the new configuration without a request
  // caught by a close; an idle connection closes after `idle_grace` if no request comes.
  void onListenerUpdated(std::chrono::milliseconds idle_grace) override;
  network::Connection& connection() override { return *connection_; }

  // network::ConnectionCallbacks
  void onData(Buffer& data, bool end_stream) override;
  void onEvent(network::ConnectionEvent event) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

  // http1::ServerCodecCallbacks
  RequestDecoder& newStream(ResponseEncoder& encoder, const http1::MessageInfo& info) override;
  void onProtocolError(uint32_t status, std::string_view details) override;

private:
  friend class ActiveStream;
  friend class ActiveDecoderFilter;
  friend class ActiveEncoderFilter;
  void onStreamComplete(); // the response was fully encoded
  void afterStreamComplete();
  void destroyStream();
  void resetIdleTimer();
  void closeConnection(network::CloseType type);

  WorkerContext& worker_;
  network::ConnectionPtr connection_;
  HcmConfigConstSharedPtr config_;
  ListenerStats& listener_stats_;
  http1::ServerCodec codec_;
  std::unique_ptr<ActiveStream> stream_;
  event::TimerPtr idle_timer_;
  event::TimerPtr headers_timer_;
  bool closed_ = false;
  bool draining_ = false;
  std::chrono::milliseconds drain_idle_grace_{0}; // > 0 after a listener update
  bool above_watermark_ = false;
  bool dispatching_ = false;
  bool stream_complete_pending_ = false;
  uint64_t id_;
};

} // namespace wasmgate::http
