#pragma once

// Per-worker, per-host HTTP/1.1 connection pool: reuses idle keep-alive connections, opens new
// ones under the cluster's circuit breakers, queues requests (bounded) when at the limit, and
// enforces connect and idle timeouts. One stream per connection at a time (HTTP/1.1).

#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <string>

#include "event/dispatcher.h"
#include "http/codec.h"
#include "http/http1/codec.h"
#include "network/connection.h"
#include "upstream/host.h"

namespace wasmgate::upstream {

enum class ResetReason { ConnectionFailure, ConnectionTermination, ProtocolError, LocalReset, Overflow };
const char* resetReasonString(ResetReason r);
enum class PoolFailureReason { Overflow, ConnectionFailure, Timeout };

// What the router's upstream request implements to receive the response.
class UpstreamStreamCallbacks : public http::ResponseDecoder {
public:
  virtual void onUpstreamReset(ResetReason reason, std::string_view detail) = 0;
  // The upstream is not reading the request body as fast as we send it.
  virtual void onUpstreamAboveWriteBufferHighWatermark() {}
  virtual void onUpstreamBelowWriteBufferLowWatermark() {}
};

class ConnPool;

class UpstreamClient : public network::ConnectionCallbacks, public event::DeferredDeletable {
public:
  UpstreamClient(ConnPool& pool, network::ConnectionPtr connection);
  ~UpstreamClient() override;

  http::RequestEncoder& startStream(UpstreamStreamCallbacks& callbacks);
  // The exchange finished normally: keep the connection if it can carry another request.
  void releaseStream();
  // Abandon the exchange: the connection is closed.
  void resetStream();
  void readDisable(bool disable) { connection_->readDisable(disable); }
  network::Connection& connection() { return *connection_; }
  const HostSharedPtr& host() const;

private:
  friend class ConnPool;
  enum class State { Connecting, Ready, Busy, Closed };
  void onData(Buffer& data, bool end_stream) override;
  void onEvent(network::ConnectionEvent event) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;
  void close();

  ConnPool& pool_;
  network::ConnectionPtr connection_;
  http::http1::ClientCodec codec_;
  UpstreamStreamCallbacks* stream_ = nullptr;
  State state_ = State::Connecting;
  event::TimerPtr connect_timer_;
  event::TimerPtr idle_timer_;
  uint32_t requests_ = 0;
  bool connect_timed_out_ = false;
  bool remote_closed_ = false;
  std::list<std::unique_ptr<UpstreamClient>>::iterator self_;
};

class PoolCallbacks {
public:
  virtual ~PoolCallbacks() = default;
  virtual void onPoolReady(UpstreamClient& client) = 0;
  virtual void onPoolFailure(PoolFailureReason reason, std::string_view detail) = 0;
};

class ConnPool {
public:
  struct Pending {
    PoolCallbacks* callbacks;
    event::MonotonicTime queued_at;
  };
  using Handle = std::list<Pending>::iterator;

  ConnPool(event::Dispatcher& d, ClusterInfoConstSharedPtr cluster, HostSharedPtr host);
  ~ConnPool();

  // Either calls onPoolReady synchronously and returns false, or queues the request and
  // returns true with `handle` set (cancel it with cancel()), or fails synchronously through
  // onPoolFailure and returns false.
  bool newStream(PoolCallbacks& callbacks, Handle& handle);
  void cancel(Handle handle);
  const HostSharedPtr& host() const { return host_; }
  const ClusterInfo& cluster() const { return *cluster_; }
  event::Dispatcher& dispatcher() { return dispatcher_; }
  size_t activeClients() const { return clients_.size(); }
  // Closes idle connections (host removed, drain).
  void closeIdle();

private:
  friend class UpstreamClient;
  void createClient();
  void onClientReady(UpstreamClient& client);
  void onClientConnectFailure(UpstreamClient& client, PoolFailureReason reason, const std::string& detail);
  void onClientClosed(UpstreamClient& client);
  void attachPending(UpstreamClient& client);

  event::Dispatcher& dispatcher_;
  ClusterInfoConstSharedPtr cluster_;
  HostSharedPtr host_;
  std::list<std::unique_ptr<UpstreamClient>> clients_;
  std::list<Pending> pending_;
  uint32_t connecting_ = 0;
  uint64_t next_connection_id_ = 1;
};

} // namespace wasmgate::upstream
