#pragma once

// L4 filters in a listener's filter chain in front of the TCP proxy (Envoy's read/write network
// filters, reduced to what a Proxy-Wasm network filter needs). Per connection, in order:
//   onNewConnection() when the downstream connection is accepted, before the upstream connect;
//   onDownstreamData() for client->upstream bytes, onUpstreamData() for upstream->client bytes
//   (the buffer may be edited in place; StopIteration holds the bytes, which accumulate, until
//   continueReading());
//   onDownstreamClose()/onUpstreamClose() once each, then onDestroy() once, last.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/buffer.h"
#include "event/dispatcher.h"

namespace wasmgate::upstream {
class WorkerClusterManager;
}

namespace wasmgate::tcp {

enum class FilterStatus { Continue, StopIteration };

// Who closed a connection: the ABI's PeerType values.
enum class PeerType : uint32_t { Unknown = 0, Local = 1, Remote = 2 };

// What a filter can see of and do to its connection.
struct ConnectionInfo {
  uint64_t connection_id = 0;
  std::string downstream_remote_address; // "ip:port"
  std::string downstream_local_address;
  std::string upstream_host;          // empty until connected
  std::string upstream_local_address; // empty until connected
  std::string upstream_cluster;
  uint64_t bytes_received = 0; // from downstream
  uint64_t bytes_sent = 0;     // to downstream
};

class NetworkFilterCallbacks {
public:
  virtual ~NetworkFilterCallbacks() = default;
  // Resumes the read path (or a paused new connection) after this filter stopped it.
  virtual void continueReading() = 0;
  // Closes the connection to the client (flushing what is queued), and with it the session.
  virtual void closeDownstream() = 0;
  // Closes the upstream connection (flushing); the client side follows.
  virtual void closeUpstream() = 0;
  virtual const ConnectionInfo& info() const = 0;
  virtual event::Dispatcher& dispatcher() = 0;
};

class NetworkFilter {
public:
  virtual ~NetworkFilter() = default;
  virtual void setCallbacks(NetworkFilterCallbacks& callbacks) = 0;
  virtual FilterStatus onNewConnection() { return FilterStatus::Continue; }
  virtual FilterStatus onDownstreamData(Buffer& data, bool end_stream) = 0;
  virtual FilterStatus onUpstreamData(Buffer& data, bool end_stream) = 0;
  virtual void onDownstreamClose(PeerType) {}
  virtual void onUpstreamClose(PeerType) {}
  virtual void onDestroy() {}
};
using NetworkFilterPtr = std::unique_ptr<NetworkFilter>;

// Where per-connection factories add their filters.
class NetworkFilterChainCallbacks {
public:
  virtual ~NetworkFilterChainCallbacks() = default;
  virtual void addFilter(NetworkFilterPtr filter) = 0;
  virtual event::Dispatcher& dispatcher() = 0;
  virtual upstream::WorkerClusterManager& clusterManager() = 0;
};

// Built once per configured filter at config load; invoked per connection on the worker.
using NetworkFilterFactoryCb = std::function<void(NetworkFilterChainCallbacks&)>;

} // namespace wasmgate::tcp
