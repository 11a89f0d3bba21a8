#include "server/worker.h"

#include <unistd.h>

#include "accesslog/access_logger.h"
#include "common/logger.h"
#include "extensions/common/wasm/wasm_runtime.h"

namespace wasmgate::server {

namespace {
std::atomic<uint64_t> g_downstream_connection_id{1};
constexpr std::chrono::milliseconds kLogFlushInterval{1000};
} // namespace

Worker::Worker(size_t index)
    : index_(index), dispatcher_("worker_" + std::to_string(index)), cluster_manager_(dispatcher_) {}

Worker::~Worker() { stop(); }

void Worker::start(SnapshotConstSharedPtr snapshot, std::vector<int> listen_fds) {
  snapshot_ = std::move(snapshot);
  for (size_t i = 0; i < listen_fds.size(); ++i) {
    listeners_.push_back(std::make_unique<network::TcpListener>(
        dispatcher_, listen_fds[i], [this, i](int fd) { onAccept(i, fd); }));
  }
  flush_timer_ = dispatcher_.createTimer([this] {
    accesslog::flushThreadBuffers();
    // Plugins whose configuration a reload replaced, once their last stream is gone.
    extensions::wasm::releaseRetiredThreadLocalPlugins();
    flush_timer_->enableTimer(kLogFlushInterval);
  });
  flush_timer_->enableTimer(kLogFlushInterval);
  // Filters' per-worker setup runs first thing on the worker's own thread.
  for (const auto& init : snapshot_->worker_initializers)
    dispatcher_.post([this, init] { init(*this); });
  dispatcher_.post([this] { runListenerInitializers(); });
  thread_ = std::thread([this] {
    dispatcher_.run();
    // Leaving the loop: close what is left and write out buffered access log lines.
    listeners_.clear();
    auto remaining = std::move(connections_);
    connections_.clear();
    for (auto& [k, c] : remaining)
      c->connection().close(network::CloseType::NoFlush);
    remaining.clear();
    flush_timer_.reset();
    accesslog::flushThreadBuffers();
  });
}

void Worker::runListenerInitializers() {
  // Filters' per-worker setup (a Wasm plugin's root context, so its ticks start without
  // traffic).
  for (const ListenerRuntime& l : snapshot_->listeners) {
    const auto& inits = l.hcm ? l.hcm->worker_initializers : l.tcp->worker_initializers;
    for (const auto& init : inits)
      init(*this);
  }
}

void Worker::updateSnapshot(SnapshotConstSharedPtr snapshot, std::chrono::milliseconds idle_grace,
                            std::function<void()> applied) {
  dispatcher_.post([this, snapshot = std::move(snapshot), idle_grace, applied = std::move(applied)]() mutable {
    if (!draining_) { // when shutting down, the old configuration sees it through
      snapshot_ = std::move(snapshot);
      runListenerInitializers();
      for (auto& [k, c] : connections_)
        c->onListenerUpdated(idle_grace); // never closes synchronously
    }
    applied();
  });
}

void Worker::onAccept(size_t listener_index, int fd) {
  const ListenerRuntime& l = snapshot_->listeners[listener_index];
  auto conn = network::Connection::createServer(dispatcher_, fd, g_downstream_connection_id++);
  if (l.tcp) {
    auto session = std::make_unique<tcp::TcpProxySession>(*this, std::move(conn), l.tcp, *l.stats);
    tcp::TcpProxySession* raw = session.get();
    connections_[raw] = std::move(session);
    connection_count_.store(connections_.size());
    raw->start(); // may end the session at once: it is in the map by now
    return;
  }
  auto cm = std::make_unique<http::ConnectionManager>(*this, std::move(conn), l.hcm, *l.stats);
  if (draining_)
    cm->onDrain();
  event::DeferredDeletable* key = cm.get();
  connections_[key] = std::move(cm);
  connection_count_.store(connections_.size());
}

void Worker::removeConnection(event::DeferredDeletable* conn) {
  auto it = connections_.find(conn);
  if (it == connections_.end())
    return;
  dispatcher_.deferredDelete(std::move(it->second));
  connections_.erase(it);
  connection_count_.store(connections_.size());
}

void Worker::drain() {
  dispatcher_.post([this] {
    draining_ = true;
    listeners_.clear();
    std::vector<network::ActiveConnection*> all;
    for (auto& [k, c] : connections_)
      all.push_back(c.get());
    for (auto* c : all)
      c->onDrain();
  });
}

void Worker::stop() {
  if (thread_.joinable()) {
    dispatcher_.exit();
    thread_.join();
  }
}

} // namespace wasmgate::server
