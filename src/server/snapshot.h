#pragma once

// The running configuration as an immutable snapshot. Workers hold a shared_ptr to the one
// they were given; a new snapshot can be posted to every worker and connections/streams in
// flight keep the objects they started with (HcmConfig, route tables, filter factories).

#include <memory>
#include <string>
#include <vector>

#include "config/bootstrap.h"
#include "http/conn_manager.h"
#include "network/address.h"
#include "tcp/tcp_proxy.h"

namespace wasmgate::server {

struct ListenerRuntime {
  std::string name;
  network::Address address;
  // Exactly one of them: the chain ends in an HTTP connection manager or a TCP proxy.
  http::HcmConfigConstSharedPtr hcm;
  tcp::TcpProxyConfigConstSharedPtr tcp;
  std::shared_ptr<http::ListenerStats> stats;
  uint32_t buffer_limit = 1024 * 1024;
};

struct Snapshot {
  config::Bootstrap bootstrap;
  std::vector<ListenerRuntime> listeners;
  // From bootstrap extensions (see extensions::BootstrapContext).
  std::vector<std::function<void(network::WorkerContext&)>> main_thread_initializers;
  std::vector<std::function<void(network::WorkerContext&)>> worker_initializers;
  std::vector<std::function<void()>> main_thread_finalizers;
};
using SnapshotConstSharedPtr = std::shared_ptr<const Snapshot>;

} // namespace wasmgate::server
