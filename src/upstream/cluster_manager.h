#pragma once

// Clusters: the main thread owns each cluster's shared state (config, stats, circuit breakers,
// host set, health checking, DNS); every worker has a ThreadLocalCluster with its own load
// balancer state and connection pools, and receives host-set updates by post(), so the
// request path takes no locks.

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "config/bootstrap.h"
#include "event/dispatcher.h"
#include "stats/stats.h"
#include "upstream/conn_pool.h"
#include "upstream/host.h"

namespace wasmgate::upstream {

class ThreadLocalCluster {
public:
  ThreadLocalCluster(event::Dispatcher& d, ClusterInfoConstSharedPtr info, HostSetConstSharedPtr hosts);
  const ClusterInfo& info() const { return *info_; }
  const ClusterInfoConstSharedPtr& infoPtr() const { return info_; }
  // Load-balanced pick among healthy hosts; nullptr when none is available. `exclude` skips a
  // host already tried (retries) when another one exists.
  HostSharedPtr chooseHost(const Host* exclude = nullptr);
  ConnPool& connPool(const HostSharedPtr& host);
  void updateHosts(HostSetConstSharedPtr hosts);
  const HostVector& hosts() const { return *hosts_; }

private:
  event::Dispatcher& dispatcher_;
  ClusterInfoConstSharedPtr info_;
  HostSetConstSharedPtr hosts_;
  std::unordered_map<const Host*, std::unique_ptr<ConnPool>> pools_;
  uint64_t rr_index_ = 0;
  std::mt19937_64 rng_;
  std::vector<Host*> scratch_;
};

// A worker's view of all clusters.
class WorkerClusterManager {
public:
  explicit WorkerClusterManager(event::Dispatcher& d) : dispatcher_(d) {}
  ThreadLocalCluster* get(std::string_view name) const;
  void addOrUpdate(ClusterInfoConstSharedPtr info, HostSetConstSharedPtr hosts);
  void updateHosts(const std::string& name, HostSetConstSharedPtr hosts);
  event::Dispatcher& dispatcher() { return dispatcher_; }

private:
  event::Dispatcher& dispatcher_;
  std::map<std::string, std::unique_ptr<ThreadLocalCluster>, std::less<>> clusters_;
};

class HealthChecker;

// Main-thread owner of all clusters.
class ClusterManager {
public:
  ClusterManager(event::Dispatcher& main, stats::Store& store);
  ~ClusterManager();

  // Builds every cluster (resolving DNS for *_DNS clusters once, synchronously, so startup
  // fails early with a clear error if a name does not resolve).
  Status initialize(const std::vector<config::Cluster>& clusters);
  // Registers a worker; it receives all clusters now and host updates later.
  void addWorker(WorkerClusterManager& worker);
  // Starts health checks and DNS refresh timers (after workers exist).
  void start();
  void shutdown();

  struct ClusterEntry {
    ClusterInfoConstSharedPtr info;
    HostSetConstSharedPtr hosts;
    std::unique_ptr<HealthChecker> health_checker;
    event::TimerPtr dns_timer;
    bool dns_in_flight = false;
  };
  const std::map<std::string, ClusterEntry>& clusters() const { return clusters_; }
  bool hasCluster(const std::string& name) const { return clusters_.count(name) != 0; }

private:
  void publishHosts(const std::string& name);
  void refreshDns(const std::string& name);
  void updateMembership(ClusterEntry& e);

  event::Dispatcher& main_;
  stats::Store& store_;
  std::map<std::string, ClusterEntry> clusters_;
  std::vector<WorkerClusterManager*> workers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Resolves a name to addresses (blocking getaddrinfo; called off the event loop).
Result<std::vector<network::Address>> resolveHost(const std::string& host, uint16_t port,
                                                  config::Cluster::DnsLookupFamily family);

} // namespace wasmgate::upstream
