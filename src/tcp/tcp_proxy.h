#pragma once

// envoy.filters.network.tcp_proxy: a listener's connections are relayed byte for byte to a
// host of one cluster, behind the chain's network filters (network_filter.h).
//
// Per connection (TcpProxySession): the filters see the new connection, then the upstream
// connect starts (cluster load balancing and connect_timeout; max_connections circuit breaker);
// bytes flow both ways through the filters with half-close (a FIN in one direction is passed on
// and the other direction keeps working); either side closing for good closes the other after
// flushing; idle_timeout closes a connection with no bytes in either direction. Read-side
// back-pressure: when one side's write buffer is above its limit, reading from the other side
// pauses.
//
// Stats (Envoy's names): tcp.<stat_prefix>.downstream_cx_total, downstream_cx_no_route,
// downstream_cx_rx_bytes_total, downstream_cx_tx_bytes_total, idle_timeout,
// upstream_flush_total; and the cluster's upstream_cx_* counters.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/bootstrap.h"
#include "network/active_connection.h"
#include "network/connection.h"
#include "stats/stats.h"
#include "tcp/network_filter.h"
#include "upstream/host.h"

namespace wasmgate::tcp {

struct TcpProxyStats {
  TcpProxyStats(stats::Store& store, const std::string& prefix);
  stats::Counter& downstream_cx_total;
  stats::Counter& downstream_cx_no_route;
  stats::Counter& downstream_cx_rx_bytes_total;
  stats::Counter& downstream_cx_tx_bytes_total;
  stats::Counter& idle_timeout;
  stats::Counter& upstream_flush_total;
};

// A listener's L4 chain, shared by its connections (immutable).
struct TcpProxyConfig {
  std::string cluster;
  std::optional<std::chrono::milliseconds> idle_timeout; // none: never
  std::vector<NetworkFilterFactoryCb> filter_factories;  // in configuration order
  std::unique_ptr<TcpProxyStats> stats;
  uint32_t buffer_limit = 1024 * 1024;
  // Run once on each worker thread when it starts (as HcmConfig's).
  std::vector<std::function<void(network::WorkerContext&)>> worker_initializers;
};
using TcpProxyConfigConstSharedPtr = std::shared_ptr<const TcpProxyConfig>;

class TcpProxySession : public network::ActiveConnection,
                        public NetworkFilterChainCallbacks {
public:
  TcpProxySession(network::WorkerContext& worker, network::ConnectionPtr downstream,
                  TcpProxyConfigConstSharedPtr config, network::ListenerStats& listener_stats);
  ~TcpProxySession() override;

  // network::ActiveConnection: TCP sessions end when their peers close (Envoy's tcp_proxy
  // does not cut them on drain either).
  void onDrain() override {}
  network::Connection& connection() override { return *downstream_; }

  // Creates the filters and runs the new-connection callbacks. Called by the worker once it
  // owns the session (a filter may close the connection right away).
  void start();

  // NetworkFilterChainCallbacks
  void addFilter(NetworkFilterPtr filter) override;
  event::Dispatcher& dispatcher() override { return worker_.dispatcher(); }
  upstream::WorkerClusterManager& clusterManager() override { return worker_.clusterManager(); }

private:
  // One filter's view of the session.
  class FilterSlot : public NetworkFilterCallbacks {
  public:
    FilterSlot(TcpProxySession& s, NetworkFilterPtr f, size_t i) : session(s), filter(std::move(f)), index(i) {}
    void continueReading() override { session.continueReading(index); }
    void closeDownstream() override { session.closeDownstream(); }
    void closeUpstream() override { session.closeUpstream(); }
    const ConnectionInfo& info() const override { return session.info_; }
    event::Dispatcher& dispatcher() override { return session.dispatcher(); }

    TcpProxySession& session;
    NetworkFilterPtr filter;
    size_t index;
  };

  // Connection callbacks of one side.
  class Side : public network::ConnectionCallbacks {
  public:
    Side(TcpProxySession& s, bool downstream) : session(s), is_downstream(downstream) {}
    void onData(Buffer& data, bool end_stream) override;
    void onEvent(network::ConnectionEvent event) override;
    void onAboveWriteBufferHighWatermark() override;
    void onBelowWriteBufferLowWatermark() override;
    TcpProxySession& session;
    bool is_downstream;
  };

  // Runs onNewConnection from filter `from`; connects upstream when every filter continued.
  void runNewConnection(size_t from);
  void connectUpstream();
  // Read path (client -> upstream) from filter `from` over the accumulated bytes.
  void runReadFilters(size_t from);
  void onDownstreamData(Buffer& data, bool end_stream);
  void onUpstreamData(Buffer& data, bool end_stream);
  void onDownstreamEvent(network::ConnectionEvent event);
  void onUpstreamEvent(network::ConnectionEvent event);
  void continueReading(size_t index);
  void closeDownstream();
  void closeUpstream();
  void flushToUpstream();
  void resetIdleTimer();
  void onIdleTimeout();
  void notifyUpstreamClose(PeerType peer);
  void finish();

  network::WorkerContext& worker_;
  TcpProxyConfigConstSharedPtr config_;
  network::ListenerStats& listener_stats_;
  network::ConnectionPtr downstream_;
  network::ConnectionPtr upstream_;
  Side downstream_side_{*this, true};
  Side upstream_side_{*this, false};
  std::vector<std::unique_ptr<FilterSlot>> filters_;
  ConnectionInfo info_;
  upstream::HostSharedPtr host_;
  upstream::ClusterInfoConstSharedPtr cluster_;
  bool holds_cx_limit_ = false;

  Buffer read_buffer_;           // client bytes not yet past every filter
  Buffer to_upstream_;           // past the filters, waiting for the upstream connect
  bool downstream_end_ = false;  // the client's FIN arrived
  bool upstream_end_sent_ = false;
  bool new_connection_done_ = false; // every filter let the connection through
  std::optional<size_t> paused_at_;  // filter that stopped the read path / new connection
  bool upstream_connected_ = false;
  bool upstream_close_notified_ = false;
  bool downstream_closed_ = false;
  bool upstream_closed_ = false;
  bool finished_ = false;
  event::TimerPtr idle_timer_;
};

} // namespace wasmgate::tcp
