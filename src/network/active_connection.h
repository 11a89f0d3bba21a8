#pragma once

#include <chrono>

// What a worker owns per accepted connection (an HTTP connection manager or a TCP proxy
// session), and what those need from their worker.

#include <string>

#include "event/dispatcher.h"
#include "stats/stats.h"

namespace wasmgate::upstream {
class WorkerClusterManager;
}

namespace wasmgate::network {

class Connection;

// listener.<address>.downstream_cx_*: every accepted connection, HTTP or TCP.
struct ListenerStats {
  ListenerStats(stats::Store& s, const std::string& prefix)
      : downstream_cx_total(s.counter(prefix + "downstream_cx_total")),
        downstream_cx_active(s.gauge(prefix + "downstream_cx_active")),
        downstream_cx_destroy(s.counter(prefix + "downstream_cx_destroy")) {}
  stats::Counter& downstream_cx_total;
  stats::Gauge& downstream_cx_active;
  stats::Counter& downstream_cx_destroy;
};

class ActiveConnection : public event::DeferredDeletable {
public:
  // Stop taking new work and close when idle (SIGTERM drain).
  virtual void onDrain() = 0;
  // The listener's configuration was replaced (config reload). The connection may finish on
  // the configuration it started with; `idle_grace` bounds how long an idle one is kept.
  // TCP sessions keep relaying (closing them would cut a byte stream).
  virtual void onListenerUpdated(std::chrono::milliseconds idle_grace) { (void)idle_grace; }
  virtual Connection& connection() = 0;
};

class WorkerContext {
public:
  virtual ~WorkerContext() = default;
  virtual event::Dispatcher& dispatcher() = 0;
  virtual upstream::WorkerClusterManager& clusterManager() = 0;
  virtual bool draining() const = 0;
  // The connection is done; the worker frees it after the current callback stack.
  virtual void removeConnection(event::DeferredDeletable* conn) = 0;
};

} // namespace wasmgate::network
