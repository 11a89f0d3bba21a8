#include "upstream/conn_pool.h"

#include "common/logger.h"

namespace wasmgate::upstream {

namespace {
constexpr std::chrono::milliseconds kDefaultIdleTimeout{3600 * 1000};
std::atomic<uint64_t> g_upstream_connection_id{1ull << 40};
} // namespace

const char* resetReasonString(ResetReason r) {
  switch (r) {
  case ResetReason::ConnectionFailure: return "connection failure";
  case ResetReason::ConnectionTermination: return "connection termination";
  case ResetReason::ProtocolError: return "protocol error";
  case ResetReason::LocalReset: return "local reset";
  case ResetReason::Overflow: return "overflow";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------

UpstreamClient::UpstreamClient(ConnPool& pool, network::ConnectionPtr connection)
    : pool_(pool), connection_(std::move(connection)), codec_(*connection_) {
  connection_->setCallbacks(this);
  connection_->setBufferLimits(pool.cluster().config().per_connection_buffer_limit_bytes);
}

UpstreamClient::~UpstreamClient() = default;

const HostSharedPtr& UpstreamClient::host() const { return pool_.host(); }

http::RequestEncoder& UpstreamClient::startStream(UpstreamStreamCallbacks& callbacks) {
  stream_ = &callbacks;
  state_ = State::Busy;
  ++requests_;
  if (idle_timer_)
    idle_timer_->disableTimer();
  codec_.startRequest(callbacks);
  return codec_;
}

void UpstreamClient::releaseStream() {
  stream_ = nullptr;
  codec_.detach();
  const auto& cfg = pool_.cluster().config();
  bool reusable = codec_.keepAlive() && codec_.requestComplete() && codec_.responseComplete() &&
                  !remote_closed_ &&
                  !(cfg.max_requests_per_connection && requests_ >= *cfg.max_requests_per_connection);
  if (!reusable || state_ == State::Closed) {
    close();
    return;
  }
  state_ = State::Ready;
  pool_.onClientReady(*this);
}

void UpstreamClient::resetStream() {
  stream_ = nullptr;
  codec_.detach();
  close();
}

void UpstreamClient::close() {
  if (state_ == State::Closed)
    return;
  connection_->close(network::CloseType::NoFlush);
}

void UpstreamClient::onData(Buffer& data, bool end_stream) {
  pool_.cluster().stats().upstream_cx_rx_bytes_total.inc(data.size());
  if (state_ != State::Busy) {
    // Unsolicited bytes on an idle connection: it cannot be trusted for reuse.
    data.clear();
    close();
    return;
  }
  if (!codec_.dispatch(data)) {
    pool_.cluster().stats().upstream_cx_protocol_error.inc();
    data.clear();
    UpstreamStreamCallbacks* s = stream_;
    stream_ = nullptr;
    codec_.detach();
    close();
    if (s)
      s->onUpstreamReset(ResetReason::ProtocolError, codec_.errorDetail());
  }
}

void UpstreamClient::onEvent(network::ConnectionEvent event) {
  auto& st = pool_.cluster().stats();
  if (event == network::ConnectionEvent::Connected) {
    connect_timer_.reset();
    pool_.onClientReady(*this);
    return;
  }
  // Closed.
  bool was_connecting = state_ == State::Connecting;
  State prev = state_;
  state_ = State::Closed;
  connect_timer_.reset();
  idle_timer_.reset();
  st.upstream_cx_tx_bytes_total.inc(connection_->bytesSent());
  if (was_connecting) {
    PoolFailureReason reason = connect_timed_out_ ? PoolFailureReason::Timeout : PoolFailureReason::ConnectionFailure;
    std::string detail = connect_timed_out_ ? "connect timeout" : connection_->transportFailureReason();
    pool_.onClientConnectFailure(*this, reason, detail);
    return;
  }
  if (event == network::ConnectionEvent::RemoteClose)
    st.upstream_cx_destroy_remote.inc();
  else
    st.upstream_cx_destroy_local.inc();
  if (prev == State::Busy && stream_ != nullptr) {
    remote_closed_ = true;
    UpstreamStreamCallbacks* s = stream_;
    // A close-delimited body ends here; anything else is a reset.
    if (codec_.onEof()) {
      // The response completed through the decoder callbacks.
    } else {
      stream_ = nullptr;
      codec_.detach();
      s->onUpstreamReset(ResetReason::ConnectionTermination,
                         connection_->transportFailureReason().empty() ? "connection termination"
                                                                       : connection_->transportFailureReason());
    }
  }
  pool_.onClientClosed(*this);
}

void UpstreamClient::onAboveWriteBufferHighWatermark() {
  if (stream_)
    stream_->onUpstreamAboveWriteBufferHighWatermark();
}

void UpstreamClient::onBelowWriteBufferLowWatermark() {
  if (stream_)
    stream_->onUpstreamBelowWriteBufferLowWatermark();
}

// ---------------------------------------------------------------------------------------------

ConnPool::ConnPool(event::Dispatcher& d, ClusterInfoConstSharedPtr cluster, HostSharedPtr host)
    : dispatcher_(d), cluster_(std::move(cluster)), host_(std::move(host)) {}

ConnPool::~ConnPool() {
  for (auto& p : pending_) {
    cluster_->pending_requests.dec();
    cluster_->stats().upstream_rq_pending_active.dec();
    p.callbacks->onPoolFailure(PoolFailureReason::ConnectionFailure, "connection pool destroyed");
  }
  pending_.clear();
  // Closing triggers onClientClosed, which erases from clients_; iterate over a copy.
  std::vector<UpstreamClient*> all;
  for (auto& c : clients_)
    all.push_back(c.get());
  for (auto* c : all) {
    c->stream_ = nullptr;
    c->close();
  }
  // Anything left (already closed) is freed with the list.
}

bool ConnPool::newStream(PoolCallbacks& callbacks, Handle& handle) {
  for (auto& c : clients_) {
    if (c->state_ == UpstreamClient::State::Ready) {
      c->state_ = UpstreamClient::State::Busy;
      callbacks.onPoolReady(*c);
      return false;
    }
  }
  auto& st = cluster_->stats();
  // Open a connection unless enough are already on their way for the queued requests.
  if (connecting_ <= pending_.size()) {
    if (cluster_->connections.tryInc()) {
      createClient();
    } else {
      st.upstream_cx_overflow.inc();
    }
  }
  if (!cluster_->pending_requests.tryInc()) {
    st.upstream_rq_pending_overflow.inc();
    callbacks.onPoolFailure(PoolFailureReason::Overflow, "pending request overflow");
    return false;
  }
  st.upstream_rq_pending_total.inc();
  st.upstream_rq_pending_active.inc();
  pending_.push_back(Pending{&callbacks, dispatcher_.now()});
  handle = std::prev(pending_.end());
  return true;
}

void ConnPool::cancel(Handle handle) {
  pending_.erase(handle);
  cluster_->pending_requests.dec();
  cluster_->stats().upstream_rq_pending_active.dec();
  cluster_->stats().upstream_rq_cancelled.inc();
}

void ConnPool::createClient() {
  auto& st = cluster_->stats();
  auto conn = network::Connection::createClient(dispatcher_, host_->address, g_upstream_connection_id++);
  auto client = std::make_unique<UpstreamClient>(*this, std::move(conn));
  UpstreamClient* raw = client.get();
  clients_.push_back(std::move(client));
  raw->self_ = std::prev(clients_.end());
  ++connecting_;
  st.upstream_cx_total.inc();
  st.upstream_cx_http1_total.inc();
  st.upstream_cx_active.inc();
  host_->cx_total.fetch_add(1, std::memory_order_relaxed);
  host_->cx_active.fetch_add(1, std::memory_order_relaxed);
  raw->connect_timer_ = dispatcher_.createTimer([this, raw] {
    cluster_->stats().upstream_cx_connect_timeout.inc();
    raw->connect_timed_out_ = true;
    raw->connection_->close(network::CloseType::NoFlush);
  });
  raw->connect_timer_->enableTimer(cluster_->config().connect_timeout);
}

void ConnPool::attachPending(UpstreamClient& client) {
  Pending p = pending_.front();
  pending_.pop_front();
  cluster_->pending_requests.dec();
  cluster_->stats().upstream_rq_pending_active.dec();
  client.state_ = UpstreamClient::State::Busy;
  p.callbacks->onPoolReady(client);
}

void ConnPool::onClientReady(UpstreamClient& client) {
  if (client.state_ == UpstreamClient::State::Connecting) {
    --connecting_;
    client.state_ = UpstreamClient::State::Ready;
  }
  if (!pending_.empty()) {
    attachPending(client);
    return;
  }
  client.state_ = UpstreamClient::State::Ready;
  auto idle = cluster_->config().idle_timeout.value_or(kDefaultIdleTimeout);
  if (idle.count() == 0)
    return; // 0 disables the idle timeout (Envoy)
  if (!client.idle_timer_) {
    client.idle_timer_ = dispatcher_.createTimer([this, &client] {
      cluster_->stats().upstream_cx_idle_timeout.inc();
      client.close();
    });
  }
  client.idle_timer_->enableTimer(idle);
}

void ConnPool::onClientConnectFailure(UpstreamClient& client, PoolFailureReason reason,
                                      const std::string& detail) {
  --connecting_;
  cluster_->stats().upstream_cx_connect_fail.inc();
  // Fail the queued requests that no other connecting connection will serve.
  std::vector<PoolCallbacks*> failed;
  while (pending_.size() > connecting_) {
    failed.push_back(pending_.front().callbacks);
    pending_.pop_front();
    cluster_->pending_requests.dec();
    cluster_->stats().upstream_rq_pending_active.dec();
    cluster_->stats().upstream_rq_pending_failure_eject.inc();
  }
  onClientClosed(client);
  for (auto* cb : failed)
    cb->onPoolFailure(reason, detail);
}

void ConnPool::onClientClosed(UpstreamClient& client) {
  cluster_->connections.dec();
  cluster_->stats().upstream_cx_active.dec();
  cluster_->stats().upstream_cx_destroy.inc();
  host_->cx_active.fetch_sub(1, std::memory_order_relaxed);
  auto owned = std::move(*client.self_);
  clients_.erase(client.self_);
  dispatcher_.deferredDelete(std::move(owned));
  // A freed connection slot lets a queued request open a new connection.
  if (!pending_.empty() && connecting_ < pending_.size() && cluster_->connections.tryInc())
    createClient();
}

void ConnPool::closeIdle() {
  std::vector<UpstreamClient*> idle;
  for (auto& c : clients_)
    if (c->state_ == UpstreamClient::State::Ready)
      idle.push_back(c.get());
  for (auto* c : idle)
    c->close();
}

} // namespace wasmgate::upstream
