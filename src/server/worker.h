#pragma once

// A worker thread: its own dispatcher, listeners (SO_REUSEPORT sockets), connections and
// cluster view. Everything here is touched only from the worker's thread, except through
// dispatcher().post().

#include <atomic>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "event/dispatcher.h"
#include "http/conn_manager.h"
#include "network/listener.h"
#include "server/snapshot.h"
#include "upstream/cluster_manager.h"

namespace wasmgate::server {

class Worker : public http::WorkerContext {
public:
  explicit Worker(size_t index);
  ~Worker() override;

  // Takes ownership of one listening fd per snapshot listener and starts the thread.
  void start(SnapshotConstSharedPtr snapshot, std::vector<int> listen_fds);
  // Thread-safe: stop accepting, ask connections to finish their request and close.
  void drain();
  // Thread-safe (config reload): new connections use `snapshot` (same listeners, in the same
  // order); open ones finish on the configuration they started with (see
  // ActiveConnection::onListenerUpdated), idle ones within `idle_grace`.
  // `applied` runs on the worker's thread once new connections use the new snapshot.
  void updateSnapshot(SnapshotConstSharedPtr snapshot, std::chrono::milliseconds idle_grace,
                      std::function<void()> applied);
  // Thread-safe: stop the loop (after drain or for immediate shutdown) and join.
  void stop();
  size_t connectionCount() const { return connection_count_.load(); }

  // http::WorkerContext
  event::Dispatcher& dispatcher() override { return dispatcher_; }
  upstream::WorkerClusterManager& clusterManager() override { return cluster_manager_; }
  bool draining() const override { return draining_; }
  void removeConnection(event::DeferredDeletable* conn) override;

  upstream::WorkerClusterManager& workerClusterManager() { return cluster_manager_; }

private:
  void onAccept(size_t listener_index, int fd);
  void runListenerInitializers();

  size_t index_;
  event::Dispatcher dispatcher_;
  upstream::WorkerClusterManager cluster_manager_;
  SnapshotConstSharedPtr snapshot_;
  std::vector<std::unique_ptr<network::TcpListener>> listeners_;
  std::unordered_map<event::DeferredDeletable*, std::unique_ptr<network::ActiveConnection>> connections_;
  std::atomic<size_t> connection_count_{0};
  bool draining_ = false;
  event::TimerPtr flush_timer_;
  std::thread thread_;
};

} // namespace wasmgate::server
