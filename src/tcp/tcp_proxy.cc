#include "tcp/tcp_proxy.h"

#include "common/logger.h"
#include "upstream/cluster_manager.h"

namespace wasmgate::tcp {

TcpProxyStats::TcpProxyStats(stats::Store& store, const std::string& prefix)
    : downstream_cx_total(store.counter(prefix + "downstream_cx_total")),
      downstream_cx_no_route(store.counter(prefix + "downstream_cx_no_route")),
      downstream_cx_rx_bytes_total(store.counter(prefix + "downstream_cx_rx_bytes_total")),
      downstream_cx_tx_bytes_total(store.counter(prefix + "downstream_cx_tx_bytes_total")),
      idle_timeout(store.counter(prefix + "idle_timeout")),
      upstream_flush_total(store.counter(prefix + "upstream_flush_total")) {}

namespace {
PeerType peerOf(network::ConnectionEvent event) {
  return event == network::ConnectionEvent::RemoteClose ? PeerType::Remote : PeerType::Local;
}
} // namespace

TcpProxySession::TcpProxySession(network::WorkerContext& worker, network::ConnectionPtr downstream,
                                 TcpProxyConfigConstSharedPtr config,
                                 network::ListenerStats& listener_stats)
    : worker_(worker), config_(std::move(config)), listener_stats_(listener_stats),
      downstream_(std::move(downstream)) {
  listener_stats_.downstream_cx_total.inc();
  listener_stats_.downstream_cx_active.inc();
  downstream_->setCallbacks(&downstream_side_);
  downstream_->enableHalfClose();
  downstream_->setBufferLimits(config_->buffer_limit);
  info_.connection_id = downstream_->id();
  info_.downstream_remote_address = downstream_->remoteAddress().text;
  info_.downstream_local_address = downstream_->localAddress().text;
  info_.upstream_cluster = config_->cluster;
  config_->stats->downstream_cx_total.inc();
}

TcpProxySession::~TcpProxySession() {
  if (holds_cx_limit_)
    cluster_->connections.dec();
  listener_stats_.downstream_cx_active.dec();
  listener_stats_.downstream_cx_destroy.inc();
}

void TcpProxySession::addFilter(NetworkFilterPtr filter) {
  auto slot = std::make_unique<FilterSlot>(*this, std::move(filter), filters_.size());
  slot->filter->setCallbacks(*slot);
  filters_.push_back(std::move(slot));
}

void TcpProxySession::start() {
  for (const auto& factory : config_->filter_factories)
    factory(*this);
  resetIdleTimer();
  runNewConnection(0);
}

void TcpProxySession::runNewConnection(size_t from) {
  for (size_t i = from; i < filters_.size(); ++i) {
    const FilterStatus st = filters_[i]->filter->onNewConnection();
    if (finished_ || downstream_closed_)
      return;
    if (st == FilterStatus::StopIteration) {
      paused_at_ = i;
      return;
    }
  }
  paused_at_.reset();
  new_connection_done_ = true;
  connectUpstream();
  // Bytes that arrived while a filter held the connection go through the filters now.
  if (!finished_ && (!read_buffer_.empty() || downstream_end_))
    runReadFilters(0);
}

void TcpProxySession::connectUpstream() {
  upstream::ThreadLocalCluster* cluster = worker_.clusterManager().get(config_->cluster);
  if (cluster == nullptr) {
    config_->stats->downstream_cx_no_route.inc();
    closeDownstream();
    return;
  }
  cluster_ = cluster->infoPtr();
  host_ = cluster->chooseHost();
  if (!host_) {
    cluster_->stats().upstream_cx_none_healthy.inc();
    closeDownstream();
    return;
  }
  if (!cluster_->connections.tryInc()) {
    cluster_->stats().upstream_cx_overflow.inc();
    closeDownstream();
    return;
  }
  holds_cx_limit_ = true;
  info_.upstream_host = host_->address.text;
  cluster_->stats().upstream_cx_total.inc();
  cluster_->stats().upstream_cx_active.inc();
  host_->cx_total.fetch_add(1, std::memory_order_relaxed);
  host_->cx_active.fetch_add(1, std::memory_order_relaxed);
  upstream_ = network::Connection::createClient(dispatcher(), host_->address, 0);
  upstream_->setCallbacks(&upstream_side_);
  upstream_->enableHalfClose();
  upstream_->setBufferLimits(config_->buffer_limit);
  // The connect timeout is the idle timer's job until connected: reuse one timer.
  idle_timer_ = dispatcher().createTimer([this] {
    if (!upstream_connected_) {
      cluster_->stats().upstream_cx_connect_timeout.inc();
      upstream_->close(network::CloseType::NoFlush);
    } else {
      onIdleTimeout();
    }
  });
  idle_timer_->enableTimer(cluster_->config().connect_timeout);
}

void TcpProxySession::Side::onData(Buffer& data, bool end_stream) {
  if (is_downstream)
    session.onDownstreamData(data, end_stream);
  else
    session.onUpstreamData(data, end_stream);
}

void TcpProxySession::Side::onEvent(network::ConnectionEvent event) {
  if (is_downstream)
    session.onDownstreamEvent(event);
  else
    session.onUpstreamEvent(event);
}

// Back-pressure: a side that cannot write fast enough stops the other side's reads.
void TcpProxySession::Side::onAboveWriteBufferHighWatermark() {
  network::Connection* other = is_downstream ? session.upstream_.get() : session.downstream_.get();
  if (other != nullptr)
    other->readDisable(true);
}

void TcpProxySession::Side::onBelowWriteBufferLowWatermark() {
  network::Connection* other = is_downstream ? session.upstream_.get() : session.downstream_.get();
  if (other != nullptr)
    other->readDisable(false);
}

void TcpProxySession::onDownstreamData(Buffer& data, bool end_stream) {
  if (finished_) {
    data.clear();
    return;
  }
  const size_t n = data.size();
  config_->stats->downstream_cx_rx_bytes_total.inc(n);
  info_.bytes_received += n;
  read_buffer_.move(data);
  downstream_end_ = downstream_end_ || end_stream;
  resetIdleTimer();
  if (!new_connection_done_)
    return; // held until every filter let the connection through
  // New bytes go through every filter again with all that is held (Envoy's read path).
  runReadFilters(0);
}

void TcpProxySession::runReadFilters(size_t from) {
  paused_at_.reset();
  for (size_t i = from; i < filters_.size(); ++i) {
    const FilterStatus st = filters_[i]->filter->onDownstreamData(read_buffer_, downstream_end_);
    if (finished_)
      return;
    if (st == FilterStatus::StopIteration) {
      paused_at_ = i;
      return;
    }
  }
  to_upstream_.move(read_buffer_);
  flushToUpstream();
}

void TcpProxySession::flushToUpstream() {
  if (!upstream_connected_ || upstream_closed_)
    return;
  if (!to_upstream_.empty())
    upstream_->write(to_upstream_);
  if (downstream_end_ && !upstream_end_sent_ && read_buffer_.empty() && !paused_at_) {
    upstream_end_sent_ = true;
    config_->stats->upstream_flush_total.inc();
    upstream_->shutdownWrite();
  }
}

void TcpProxySession::onUpstreamData(Buffer& data, bool end_stream) {
  if (finished_) {
    data.clear();
    return;
  }
  resetIdleTimer();
  cluster_->stats().upstream_cx_rx_bytes_total.inc(data.size());
  // Write filters run newest first, as in Envoy; a stop holds the bytes, which come back with
  // the next upstream bytes.
  for (size_t i = filters_.size(); i-- > 0;) {
    const FilterStatus st = filters_[i]->filter->onUpstreamData(data, end_stream);
    if (finished_)
      return;
    if (st == FilterStatus::StopIteration)
      return;
  }
  const size_t n = data.size();
  config_->stats->downstream_cx_tx_bytes_total.inc(n);
  info_.bytes_sent += n;
  downstream_->write(data);
  if (end_stream) {
    downstream_->shutdownWrite();
    // Envoy reports the upstream's end as a close of unknown origin on the write path.
    notifyUpstreamClose(PeerType::Unknown);
  }
}

void TcpProxySession::notifyUpstreamClose(PeerType peer) {
  if (upstream_close_notified_ || finished_)
    return;
  upstream_close_notified_ = true;
  for (auto& f : filters_) {
    f->filter->onUpstreamClose(peer);
    if (finished_)
      return;
  }
}

void TcpProxySession::onDownstreamEvent(network::ConnectionEvent event) {
  if (event == network::ConnectionEvent::Connected || downstream_closed_)
    return;
  downstream_closed_ = true;
  if (!finished_) {
    for (auto& f : filters_)
      f->filter->onDownstreamClose(peerOf(event));
  }
  if (upstream_ && !upstream_closed_)
    upstream_->close(network::CloseType::FlushWrite);
  finish();
}

void TcpProxySession::onUpstreamEvent(network::ConnectionEvent event) {
  if (event == network::ConnectionEvent::Connected) {
    upstream_connected_ = true;
    info_.upstream_local_address = upstream_->localAddress().text;
    idle_timer_.reset(); // the connect timeout is over
    resetIdleTimer();
    flushToUpstream();
    return;
  }
  if (upstream_closed_)
    return;
  upstream_closed_ = true;
  cluster_->stats().upstream_cx_active.dec();
  host_->cx_active.fetch_sub(1, std::memory_order_relaxed);
  if (!upstream_connected_) {
    cluster_->stats().upstream_cx_connect_fail.inc();
    WG_DEBUG("tcp_proxy: connect to {} failed: {}", host_->address.text,
             upstream_->transportFailureReason());
    // Nothing reached the client: close it at once.
    if (!downstream_closed_)
      downstream_->close(network::CloseType::NoFlush);
    return;
  }
  notifyUpstreamClose(peerOf(event));
  if (!downstream_closed_)
    downstream_->close(network::CloseType::FlushWrite);
}

void TcpProxySession::continueReading(size_t index) {
  if (finished_ || !paused_at_ || *paused_at_ != index)
    return;
  if (!new_connection_done_)
    runNewConnection(index + 1);
  else
    runReadFilters(index + 1);
}

void TcpProxySession::closeDownstream() {
  if (!downstream_closed_)
    downstream_->close(network::CloseType::FlushWrite);
}

void TcpProxySession::closeUpstream() {
  if (upstream_ && !upstream_closed_)
    upstream_->close(network::CloseType::FlushWrite);
  else if (!upstream_)
    closeDownstream();
}

void TcpProxySession::resetIdleTimer() {
  if (!config_->idle_timeout || (upstream_ && !upstream_connected_))
    return; // no idle timeout, or the connect timeout is running
  if (!idle_timer_)
    idle_timer_ = dispatcher().createTimer([this] { onIdleTimeout(); });
  idle_timer_->enableTimer(*config_->idle_timeout);
}

void TcpProxySession::onIdleTimeout() {
  if (!config_->idle_timeout || finished_)
    return;
  config_->stats->idle_timeout.inc();
  if (!downstream_closed_)
    downstream_->close(network::CloseType::NoFlush);
}

void TcpProxySession::finish() {
  if (finished_)
    return;
  finished_ = true;
  idle_timer_.reset();
  for (auto& f : filters_)
    f->filter->onDestroy();
  worker_.removeConnection(this);
}

} // namespace wasmgate::tcp
