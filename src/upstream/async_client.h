#pragma once

// One buffered HTTP request to a cluster on the worker's event loop, for the proxy's own needs
// (Proxy-Wasm proxy_http_call): Envoy's AsyncClient::send. It picks a host, takes a connection
// from that host's pool (sharing the cluster's circuit breakers and keep-alive connections with
// the router), sends the request, buffers the whole response and reports once.
//
// As in Envoy, failures before a response starts become local replies delivered as responses:
// no healthy host or a connect failure 503, a timeout 504. Only a reset after the response
// started is a failure. cancel() (or destroying the request) stops it without a callback.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/buffer.h"
#include "event/dispatcher.h"
#include "http/header_map.h"
#include "upstream/conn_pool.h"

namespace wasmgate::upstream {

class ThreadLocalCluster;

struct AsyncResponse {
  http::HeaderMap headers; // with :status
  Buffer body;
  http::HeaderMap trailers;
};

class AsyncRequestCallbacks {
public:
  virtual ~AsyncRequestCallbacks() = default;
  virtual void onAsyncSuccess(AsyncResponse&& response) = 0;
  // The connection was reset after the response started ("reset").
  virtual void onAsyncFailure(std::string_view reason) = 0;
};

class AsyncRequest : public PoolCallbacks, public UpstreamStreamCallbacks, public event::DeferredDeletable {
public:
  // `headers` must carry :method, :path and :authority. The callbacks must outlive the request
  // or cancel it first. Callbacks may run before send() returns (a synchronous pool failure).
  static std::unique_ptr<AsyncRequest> send(ThreadLocalCluster& cluster, event::Dispatcher& dispatcher,
                                            http::HeaderMap headers, std::string body,
                                            http::HeaderMap trailers,
                                            std::optional<std::chrono::milliseconds> timeout,
                                            AsyncRequestCallbacks& callbacks);
  ~AsyncRequest() override;

  // Stops the request (pending in the pool or on the wire); no callback follows.
  void cancel();
  bool done() const { return done_; }

  // PoolCallbacks
  void onPoolReady(UpstreamClient& client) override;
  void onPoolFailure(PoolFailureReason reason, std::string_view detail) override;
  // UpstreamStreamCallbacks
  void decode1xxHeaders(http::HeaderMap&&) override {}
  void decodeHeaders(http::HeaderMap&& headers, bool end_stream) override;
  void decodeData(Buffer& data, bool end_stream) override;
  void decodeTrailers(http::HeaderMap&& trailers) override;
  void onUpstreamReset(ResetReason reason, std::string_view detail) override;

private:
  AsyncRequest(ThreadLocalCluster& cluster, event::Dispatcher& dispatcher, http::HeaderMap headers,
               std::string body, http::HeaderMap trailers, AsyncRequestCallbacks& callbacks);
  void start(std::optional<std::chrono::milliseconds> timeout);
  void onTimeout();
  // Ends the exchange with the upstream (keeping the connection if it is reusable).
  void releaseUpstream(bool reusable);
  void finishWithLocalReply(uint32_t status, std::string_view body);
  void finishWithResponse();

  ThreadLocalCluster& cluster_;
  event::Dispatcher& dispatcher_;
  http::HeaderMap request_headers_;
  std::string request_body_;
  http::HeaderMap request_trailers_;
  AsyncRequestCallbacks& callbacks_;
  HostSharedPtr host_;
  ConnPool* pool_ = nullptr;
  std::optional<ConnPool::Handle> pending_;
  UpstreamClient* client_ = nullptr;
  event::TimerPtr timer_;
  AsyncResponse response_;
  bool response_started_ = false;
  bool done_ = false;
};

} // namespace wasmgate::upstream
